using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pitrix.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ClusterObservations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "PreviousConfigValues",
                table: "clusters",
                type: "text",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "cluster_observations",
                columns: table => new
                {
                    ClusterId = table.Column<string>(type: "text", nullable: false),
                    ObservedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    State = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Message = table.Column<string>(type: "character varying(4096)", maxLength: 4096, nullable: false),
                    Revision = table.Column<int>(type: "integer", nullable: true),
                    Workloads = table.Column<string>(type: "text", nullable: false),
                    Pods = table.Column<string>(type: "text", nullable: false),
                    Endpoints = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_cluster_observations", x => x.ClusterId);
                    table.ForeignKey(
                        name: "FK_cluster_observations_clusters_ClusterId",
                        column: x => x.ClusterId,
                        principalTable: "clusters",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "cluster_observations");

            migrationBuilder.DropColumn(
                name: "PreviousConfigValues",
                table: "clusters");
        }
    }
}
