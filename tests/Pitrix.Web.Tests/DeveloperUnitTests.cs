using Pitrix.Web.Client;
using Xunit;

namespace Pitrix.Web.Tests;

public sealed class PackageProblemTests
{
    [Fact]
    public void From_LintFailure_GivesEveryMessageWithFileLineAndCode()
    {
        var refused = new ApiException(400, "package.lint_failed", "Validation failed", "The package has 4 problem(s); fix them and upload again.", new Dictionary<string, string[]>
        {
            ["locale/zh-cn.json"] = ["Invalid JSON at line 3. [locale.invalid_json]"],
            ["cluster.json.tmpl"] =
            [
                "template: cluster.json.tmpl:12: unexpected \"}\" in operand [template.parse_error]",
                "cluster.json.tmpl (rendered with defaults): The rendered cluster is not valid JSON at rendered line 40: } [cluster.invalid_json]",
            ],
            ["config.json"] = ["config.json: default of 'cluster.zk_node.memory': 3000 is not one of 1024, 2048. [config.invalid_default]"],
        });

        var problems = PackageProblem.From(refused);

        Assert.Equal(
            [
                new PackageProblem("locale/zh-cn.json", 3, "locale.invalid_json", "Invalid JSON at line 3."),
                new PackageProblem("cluster.json.tmpl", 12, "template.parse_error", "template: cluster.json.tmpl:12: unexpected \"}\" in operand"),
                new PackageProblem("cluster.json.tmpl", null, "cluster.invalid_json", "cluster.json.tmpl (rendered with defaults): The rendered cluster is not valid JSON at rendered line 40: }"),
                new PackageProblem("config.json", null, "config.invalid_default", "default of 'cluster.zk_node.memory': 3000 is not one of 1024, 2048."),
            ],
            problems);
    }

    [Fact]
    public void From_FieldErrorsWithoutCodes_HaveNoCode()
    {
        var refused = new ApiException(400, "validation.failed", "Validation failed", "Check the fields.", new Dictionary<string, string[]> { ["repo_id"] = ["Required when you belong to several groups."] });

        var problem = Assert.Single(PackageProblem.From(refused));

        Assert.Null(problem.Code);
        Assert.Null(problem.Line);
        Assert.Equal("repo_id", problem.File);
    }
}
