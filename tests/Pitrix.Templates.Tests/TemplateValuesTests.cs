namespace Pitrix.Templates.Tests;

public sealed class TemplateValuesTests
{
    [Fact]
    public void FromJson_IntegersAsInt_KeepsIntegersAndFloatsApart()
    {
        var data = TemplateValues.FromJson("{\"i\": 3, \"f\": 1.5, \"big\": 100000000000000000000, \"l\": [1, \"a\", null, true]}");

        Assert.Equal("int float64 float64 [1 a <nil> true]", Template.Parse("t", "{{printf \"%T %T %T\" .i .f .big}} {{.l}}").Execute(data));
    }

    [Fact]
    public void FromJson_AllFloat64_BehavesLikeHelmValues()
    {
        var data = TemplateValues.FromJson("{\"replicas\": 1000000}", JsonNumbers.AllFloat64);

        Assert.Equal("1e+06 float64", Template.Parse("t", "{{.replicas}} {{printf \"%T\" .replicas}}").Execute(data));
    }

    [Fact]
    public void FromYaml_ReadsValuesLikeHelm()
    {
        var values = TemplateValues.FromYaml("image:\n  tag: 1.10\n  pull: 'yes'\nflag: yes\nbase: &b {x: 1}\nderived:\n  <<: *b\n  z: 2\n");

        var output = Template.Parse("t", "{{.image.tag}} {{.image.pull}} {{.flag}} {{.derived.x}}{{.derived.z}}").Execute(values);

        Assert.Equal("1.1 yes true 12", output);
    }

    [Fact]
    public void FromYaml_NotAMapping_FailsWithGoMessage()
    {
        var e = Assert.Throws<FormatException>(() => TemplateValues.FromYaml("- a\n- b\n"));

        Assert.Contains("cannot unmarshal array into Go value of type map[string]interface {}", e.Message, StringComparison.Ordinal);
    }
}
