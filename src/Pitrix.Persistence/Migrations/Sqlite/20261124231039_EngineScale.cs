using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pitrix.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class EngineScale : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "RuntimeId",
                table: "jobs",
                type: "TEXT",
                maxLength: 40,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "AttemptBudget",
                table: "job_tasks",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "ClusterId",
                table: "job_tasks",
                type: "TEXT",
                maxLength: 40,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<long>(
                name: "ReadyAt",
                table: "job_tasks",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "RuntimeId",
                table: "job_tasks",
                type: "TEXT",
                maxLength: 40,
                nullable: true);

            // Tasks stored before this migration take their job's cluster and their plan's attempt budget.
            migrationBuilder.Sql("""UPDATE job_tasks SET "ClusterId" = (SELECT j."ClusterId" FROM jobs AS j WHERE j."Id" = job_tasks."JobId"), "AttemptBudget" = "MaxAttempts" """);

            migrationBuilder.CreateTable(
                name: "events",
                columns: table => new
                {
                    Seq = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ClusterId = table.Column<string>(type: "TEXT", maxLength: 40, nullable: false),
                    JobId = table.Column<string>(type: "TEXT", nullable: true),
                    TaskId = table.Column<string>(type: "TEXT", nullable: true),
                    Type = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Data = table.Column<string>(type: "TEXT", nullable: false),
                    At = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_events", x => x.Seq);
                });

            migrationBuilder.CreateIndex(
                name: "IX_job_tasks_Status_CreatedAt",
                table: "job_tasks",
                columns: new[] { "Status", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_events_ClusterId_Seq",
                table: "events",
                columns: new[] { "ClusterId", "Seq" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "events");

            migrationBuilder.DropIndex(
                name: "IX_job_tasks_Status_CreatedAt",
                table: "job_tasks");

            migrationBuilder.DropColumn(
                name: "RuntimeId",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "AttemptBudget",
                table: "job_tasks");

            migrationBuilder.DropColumn(
                name: "ClusterId",
                table: "job_tasks");

            migrationBuilder.DropColumn(
                name: "ReadyAt",
                table: "job_tasks");

            migrationBuilder.DropColumn(
                name: "RuntimeId",
                table: "job_tasks");
        }
    }
}
