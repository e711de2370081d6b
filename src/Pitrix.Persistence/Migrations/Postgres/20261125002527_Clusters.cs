using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pitrix.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Clusters : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "Applied",
                table: "jobs",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "KeepOnFailure",
                table: "jobs",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "Parameters",
                table: "jobs",
                type: "text",
                nullable: false,
                defaultValue: "");

            migrationBuilder.CreateTable(
                name: "clusters",
                columns: table => new
                {
                    Id = table.Column<string>(type: "text", nullable: false),
                    Name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Description = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: true),
                    AppId = table.Column<string>(type: "text", nullable: false),
                    AppVersionId = table.Column<string>(type: "text", nullable: false),
                    PreviousAppVersionId = table.Column<string>(type: "text", nullable: true),
                    RuntimeId = table.Column<string>(type: "text", nullable: false),
                    Format = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    OwnerId = table.Column<string>(type: "character varying(40)", nullable: false),
                    GroupId = table.Column<string>(type: "character varying(40)", nullable: true),
                    Visibility = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    ConfigValues = table.Column<string>(type: "text", nullable: false),
                    Spec = table.Column<string>(type: "text", nullable: true),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    StatusReason = table.Column<string>(type: "text", nullable: true),
                    Endpoints = table.Column<string>(type: "text", nullable: false),
                    Labels = table.Column<string>(type: "text", nullable: false),
                    LeaseJobId = table.Column<string>(type: "text", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    DeletedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_clusters", x => x.Id);
                    table.ForeignKey(
                        name: "FK_clusters_app_versions_AppVersionId",
                        column: x => x.AppVersionId,
                        principalTable: "app_versions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_clusters_groups_GroupId",
                        column: x => x.GroupId,
                        principalTable: "groups",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_clusters_runtimes_RuntimeId",
                        column: x => x.RuntimeId,
                        principalTable: "runtimes",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_clusters_users_OwnerId",
                        column: x => x.OwnerId,
                        principalTable: "users",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "cluster_nodes",
                columns: table => new
                {
                    Id = table.Column<string>(type: "text", nullable: false),
                    ClusterId = table.Column<string>(type: "text", nullable: false),
                    Role = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ServerId = table.Column<int>(type: "integer", nullable: false),
                    InstanceId = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    PrivateIp = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    Volumes = table.Column<string>(type: "text", nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Health = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    CreatedByJobId = table.Column<string>(type: "text", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_cluster_nodes", x => x.Id);
                    table.ForeignKey(
                        name: "FK_cluster_nodes_clusters_ClusterId",
                        column: x => x.ClusterId,
                        principalTable: "clusters",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "cluster_roles",
                columns: table => new
                {
                    ClusterId = table.Column<string>(type: "text", nullable: false),
                    Name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Count = table.Column<int>(type: "integer", nullable: false),
                    Cpu = table.Column<int>(type: "integer", nullable: false),
                    Memory = table.Column<int>(type: "integer", nullable: false),
                    Gpu = table.Column<int>(type: "integer", nullable: false),
                    VolumeSize = table.Column<int>(type: "integer", nullable: false),
                    Env = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_cluster_roles", x => new { x.ClusterId, x.Name });
                    table.ForeignKey(
                        name: "FK_cluster_roles_clusters_ClusterId",
                        column: x => x.ClusterId,
                        principalTable: "clusters",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_jobs_Applied_Status",
                table: "jobs",
                columns: new[] { "Applied", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_cluster_nodes_ClusterId_ServerId",
                table: "cluster_nodes",
                columns: new[] { "ClusterId", "ServerId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_clusters_AppVersionId",
                table: "clusters",
                column: "AppVersionId");

            migrationBuilder.CreateIndex(
                name: "IX_clusters_GroupId",
                table: "clusters",
                column: "GroupId");

            migrationBuilder.CreateIndex(
                name: "IX_clusters_OwnerId_CreatedAt",
                table: "clusters",
                columns: new[] { "OwnerId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_clusters_RuntimeId",
                table: "clusters",
                column: "RuntimeId");

            migrationBuilder.CreateIndex(
                name: "IX_clusters_Status",
                table: "clusters",
                column: "Status");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "cluster_nodes");

            migrationBuilder.DropTable(
                name: "cluster_roles");

            migrationBuilder.DropTable(
                name: "clusters");

            migrationBuilder.DropIndex(
                name: "IX_jobs_Applied_Status",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "Applied",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "KeepOnFailure",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "Parameters",
                table: "jobs");
        }
    }
}
