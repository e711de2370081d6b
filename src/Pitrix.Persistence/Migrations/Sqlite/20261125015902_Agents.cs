using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pitrix.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Agents : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "agent_command_results",
                columns: table => new
                {
                    NodeId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    TaskId = table.Column<string>(type: "TEXT", maxLength: 160, nullable: false),
                    FrontgateId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    ExitCode = table.Column<int>(type: "INTEGER", nullable: false),
                    Duration = table.Column<TimeSpan>(type: "TEXT", nullable: false),
                    StdoutTail = table.Column<string>(type: "TEXT", nullable: false),
                    StderrTail = table.Column<string>(type: "TEXT", nullable: false),
                    TimedOut = table.Column<bool>(type: "INTEGER", nullable: false),
                    FinishedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ErrorCode = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    ErrorMessage = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                    ReceivedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_agent_command_results", x => new { x.NodeId, x.TaskId });
                });

            migrationBuilder.CreateTable(
                name: "agent_frontgates",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    Version = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    ConnectedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    LastSeenAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_agent_frontgates", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "agent_join_tokens",
                columns: table => new
                {
                    TokenHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    AgentKind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    AgentId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ExpiresAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ConsumedAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_agent_join_tokens", x => x.TokenHash);
                });

            migrationBuilder.CreateTable(
                name: "agent_nodes",
                columns: table => new
                {
                    NodeId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    FrontgateId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    EnrolledAt = table.Column<long>(type: "INTEGER", nullable: true),
                    HealthState = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    HealthDetail = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    HealthCheckedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    LastSeenAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_agent_nodes", x => x.NodeId);
                });

            migrationBuilder.CreateIndex(
                name: "IX_agent_command_results_ReceivedAt",
                table: "agent_command_results",
                column: "ReceivedAt");

            migrationBuilder.CreateIndex(
                name: "IX_agent_join_tokens_ExpiresAt",
                table: "agent_join_tokens",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_agent_nodes_FrontgateId",
                table: "agent_nodes",
                column: "FrontgateId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "agent_command_results");

            migrationBuilder.DropTable(
                name: "agent_frontgates");

            migrationBuilder.DropTable(
                name: "agent_join_tokens");

            migrationBuilder.DropTable(
                name: "agent_nodes");
        }
    }
}
