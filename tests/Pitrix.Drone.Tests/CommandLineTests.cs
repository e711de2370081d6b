namespace Pitrix.Drone.Tests;

public class CommandLineTests
{
    [Theory]
    [InlineData("/opt/app/init.sh --fast", new[] { "/opt/app/init.sh", "--fast" })]
    [InlineData("  systemctl   restart\tzookeeper  ", new[] { "systemctl", "restart", "zookeeper" })]
    [InlineData("echo 'a b' \"c d\" e\\ f", new[] { "echo", "a b", "c d", "e f" })]
    [InlineData("echo 'it''s' \"say \\\"hi\\\"\"", new[] { "echo", "its", "say \"hi\"" })]
    [InlineData("echo '$(touch x); `id` | *' \"\\$HOME\"", new[] { "echo", "$(touch x); `id` | *", "$HOME" })]
    [InlineData("echo '' x", new[] { "echo", "", "x" })]
    [InlineData("a\"b\"'c'", new[] { "abc" })]
    public void TrySplit_QuotedWords_SplitsLikeAPosixShell(string command, string[] expected)
    {
        Assert.True(CommandLine.TrySplit(command, out var argv, out var error), error);
        Assert.Equal(expected, argv);
    }

    [Theory]
    [InlineData("echo $HOME")]
    [InlineData("echo $(touch pwned)")]
    [InlineData("echo `id`")]
    [InlineData("init.sh; reboot")]
    [InlineData("cat x | sh")]
    [InlineData("run &")]
    [InlineData("echo > /etc/passwd")]
    [InlineData("ls *.log")]
    [InlineData("echo \"$HOME\"")]
    [InlineData("echo 'unterminated")]
    [InlineData("echo \"unterminated")]
    [InlineData("   ")]
    [InlineData("")]
    public void TrySplit_ShellSyntaxOrEmpty_IsRefusedWithAReason(string command)
    {
        Assert.False(CommandLine.TrySplit(command, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }
}
