using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pitrix.Persistence.Migrations.Postgres
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
                    NodeId = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    TaskId = table.Column<string>(type: "character varying(160)", maxLength: 160, nullable: false),
                    FrontgateId = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    ExitCode = table.Column<int>(type: "integer", nullable: false),
                    Duration = table.Column<TimeSpan>(type: "interval", nullable: false),
                    StdoutTail = table.Column<string>(type: "text", nullable: false),
                    StderrTail = table.Column<string>(type: "text", nullable: false),
                    TimedOut = table.Column<bool>(type: "boolean", nullable: false),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ErrorCode = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    ErrorMessage = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true),
                    ReceivedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_agent_command_results", x => new { x.NodeId, x.TaskId });
                });

            migrationBuilder.CreateTable(
                name: "agent_frontgates",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Version = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ConnectedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LastSeenAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_agent_frontgates", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "agent_join_tokens",
                columns: table => new
                {
                    TokenHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    AgentKind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    AgentId = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ConsumedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_agent_join_tokens", x => x.TokenHash);
                });

            migrationBuilder.CreateTable(
                name: "agent_nodes",
                columns: table => new
                {
                    NodeId = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    FrontgateId = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    EnrolledAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    HealthState = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    HealthDetail = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: true),
                    HealthCheckedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LastSeenAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
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
