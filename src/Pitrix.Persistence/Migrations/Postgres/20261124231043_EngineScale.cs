using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Pitrix.Persistence.Migrations.Postgres
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
                type: "character varying(40)",
                maxLength: 40,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "AttemptBudget",
                table: "job_tasks",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "ClusterId",
                table: "job_tasks",
                type: "character varying(40)",
                maxLength: 40,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "ReadyAt",
                table: "job_tasks",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "RuntimeId",
                table: "job_tasks",
                type: "character varying(40)",
                maxLength: 40,
                nullable: true);

            // Tasks stored before this migration take their job's cluster and their plan's attempt budget.
            migrationBuilder.Sql("""UPDATE job_tasks SET "ClusterId" = (SELECT j."ClusterId" FROM jobs AS j WHERE j."Id" = job_tasks."JobId"), "AttemptBudget" = "MaxAttempts" """);

            migrationBuilder.CreateTable(
                name: "events",
                columns: table => new
                {
                    Seq = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    ClusterId = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    JobId = table.Column<string>(type: "text", nullable: true),
                    TaskId = table.Column<string>(type: "text", nullable: true),
                    Type = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Data = table.Column<string>(type: "text", nullable: false),
                    At = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
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

            // Every commit that appends events wakes listeners in every process (see PostgresEngineListener);
            // the type lists match EngineEventTypes.MayReadyTasks and task.cancelled.
            migrationBuilder.Sql("""
                CREATE FUNCTION pitrix_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('pitrix_engine', 'events:' || (SELECT max("Seq") FROM appended));
                    IF EXISTS (SELECT 1 FROM appended WHERE "Type" IN ('job.created', 'job.retried', 'job.failed', 'job.cancelled', 'task.succeeded', 'task.retrying')) THEN
                        PERFORM pg_notify('pitrix_engine', 'ready');
                    END IF;
                    IF EXISTS (SELECT 1 FROM appended WHERE "Type" = 'task.cancelled') THEN
                        PERFORM pg_notify('pitrix_engine', 'cancel');
                    END IF;
                    RETURN NULL;
                END
                $$;
                CREATE TRIGGER events_notify AFTER INSERT ON events REFERENCING NEW TABLE AS appended
                    FOR EACH STATEMENT EXECUTE FUNCTION pitrix_events_notify();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS events_notify ON events; DROP FUNCTION IF EXISTS pitrix_events_notify();");

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
