using System.Reflection;

namespace Pitrix.Templates.Tests;

public sealed class SandboxTests
{
    private static readonly string[] _forbiddenFunctions =
    [
        "env", "expandenv", "getenv", "readFile", "fileExists", "osBase", "osDir", "osClean", "osExt", "osIsAbs",
        "getHostByName", "lookupIP", "lookupIPV4", "lookupIPV6", "lookupSRV", "now", "date", "datetime", "exec", "shell",
        "randAlpha", "randAlphaNum", "randAscii", "randNumeric", "randBytes", "randInt", "uuidv4", "genPrivateKey", "lookup",
        "bcrypt", "htpasswd", "encryptAES", "decryptAES", "genCA", "genSelfSignedCert", "derivePassword",
    ];

    public static TheoryData<string> Libraries() => ["builtin", "sprig", "confd"];

    private static FunctionLibrary Library(string name)
    {
        var library = new FunctionLibrary();
        return name switch
        {
            "sprig" => library.AddSprig(),
            "confd" => library.AddConfd(new InMemoryKeyValueView(new Dictionary<string, string>())),
            _ => library,
        };
    }

    [Theory]
    [MemberData(nameof(Libraries))]
    public void Library_HasNoFileEnvironmentNetworkOrClockFunctions(string name)
    {
        var library = Library(name);

        // confd's getenv is the sandboxed one: it reads only the PITRIX_* values handed to AddConfd (ConfdGetenvTests).
        foreach (var forbidden in _forbiddenFunctions.Where(f => !(name == "confd" && f == "getenv")))
        {
            Assert.False(library.Contains(forbidden), $"{name} exposes {forbidden}");
            var e = Assert.Throws<TemplateException>(() => Template.Parse("t", "{{ " + forbidden + " }}", functions: library));
            Assert.Equal(TemplateErrorCodes.ParseError, e.Code);
        }
    }

    [Theory]
    [MemberData(nameof(Libraries))]
    public void PathFunctions_AreLexical_AndNeverTouchTheFileSystem(string name)
    {
        var library = Library(name);
        var secret = Path.Combine(Path.GetTempPath(), "pitrix-sandbox-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(secret, "TOP-SECRET");
        try
        {
            var probes = new[] { "base", "dir", "clean", "ext", "isAbs", "include", "tpl", "getv", "ls", "lsdir", "get", "gets" }
                .Where(library.Contains);
            foreach (var fn in probes)
            {
                var text = fn is "include" or "tpl" or "get" ? "{{ " + fn + " " + Quote(secret) + " . }}" : "{{ " + fn + " " + Quote(secret) + " }}";
                string output;
                try
                {
                    output = Template.Parse("t", text, functions: library).Execute(null);
                }
                catch (TemplateException)
                {
                    continue;
                }

                Assert.DoesNotContain("TOP-SECRET", output, StringComparison.Ordinal);
            }
        }
        finally
        {
            File.Delete(secret);
        }
    }

    [Fact]
    public void TemplateAssembly_ReferencesNoProcessNetworkOrFileApis()
    {
        var assembly = typeof(Template).Assembly;
        var referenced = assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();

        Assert.DoesNotContain("System.Net.Http", referenced);
        Assert.DoesNotContain("System.Net.Sockets", referenced);
        Assert.DoesNotContain("System.Diagnostics.Process", referenced);
        Assert.DoesNotContain("System.Net.NameResolution", referenced);

        var forbiddenTypes = new[] { typeof(File), typeof(Directory), typeof(FileStream), typeof(Environment) };
        foreach (var type in assembly.GetTypes())
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                Assert.DoesNotContain(method.GetParameters(), p => forbiddenTypes.Contains(p.ParameterType));
            }
        }
    }

    [Fact]
    public void DataObjects_OnlyExposePublicProperties_NotMethods()
    {
        var template = Template.Parse("t", "{{ .GetType }}");

        var e = Assert.Throws<TemplateException>(() => template.Execute(new Probe()));

        Assert.Contains("can't evaluate field GetType", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DataObjects_PublicPropertiesAreReadable()
    {
        var template = Template.Parse("t", "{{ .Name }} {{ . }} {{ printf \"%+v\" . }}");

        Assert.Equal("probe {probe 3} {Name:probe Count:3}", template.Execute(new Probe()));
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal) + "\"";

    private sealed class Probe
    {
        public string Name { get; } = "probe";

        public int Count { get; } = 3;

        private string Secret { get; } = "hidden";

        public override string ToString() => Secret;
    }
}
