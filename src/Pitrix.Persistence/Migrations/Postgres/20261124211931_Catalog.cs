using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pitrix.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Catalog : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "blobs",
                columns: table => new
                {
                    Digest = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    MediaType = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Size = table.Column<long>(type: "bigint", nullable: false),
                    Content = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_blobs", x => x.Digest);
                });

            migrationBuilder.CreateTable(
                name: "categories",
                columns: table => new
                {
                    Id = table.Column<string>(type: "text", nullable: false),
                    Name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Locale = table.Column<string>(type: "text", nullable: false),
                    Description = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: true),
                    Icon = table.Column<string>(type: "character varying(65536)", maxLength: 65536, nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_categories", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "repos",
                columns: table => new
                {
                    Id = table.Column<string>(type: "text", nullable: false),
                    Name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Description = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: true),
                    Type = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Url = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true),
                    CredentialCiphertext = table.Column<string>(type: "text", nullable: true),
                    CaBundlePem = table.Column<string>(type: "text", nullable: true),
                    Providers = table.Column<string>(type: "text", nullable: false),
                    Labels = table.Column<string>(type: "text", nullable: false),
                    Selectors = table.Column<string>(type: "text", nullable: false),
                    GroupIds = table.Column<string>(type: "text", nullable: false),
                    SyncIntervalSeconds = table.Column<int>(type: "integer", nullable: false),
                    DefaultStatus = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    FetchPackages = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    WebhookSecretCiphertext = table.Column<string>(type: "text", nullable: true),
                    OwnerId = table.Column<string>(type: "character varying(40)", nullable: false),
                    GroupId = table.Column<string>(type: "character varying(40)", nullable: true),
                    Visibility = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    SyncLeaseOwner = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    SyncLeaseExpiresAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    NextSyncAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    IndexETag = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: true),
                    IndexLastModified = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    IndexDigest = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    LastSyncId = table.Column<string>(type: "text", nullable: true),
                    LastSyncStatus = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    LastSyncAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LastSyncError = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_repos", x => x.Id);
                    table.ForeignKey(
                        name: "FK_repos_groups_GroupId",
                        column: x => x.GroupId,
                        principalTable: "groups",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_repos_users_OwnerId",
                        column: x => x.OwnerId,
                        principalTable: "users",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "apps",
                columns: table => new
                {
                    Id = table.Column<string>(type: "text", nullable: false),
                    RepoId = table.Column<string>(type: "text", nullable: false),
                    Name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Format = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Description = table.Column<string>(type: "text", nullable: true),
                    Icon = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true),
                    Home = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true),
                    Keywords = table.Column<string>(type: "text", nullable: false),
                    Maintainers = table.Column<string>(type: "text", nullable: false),
                    Sources = table.Column<string>(type: "text", nullable: false),
                    Screenshots = table.Column<string>(type: "text", nullable: false),
                    SearchText = table.Column<string>(type: "text", nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    LatestVersionId = table.Column<string>(type: "text", nullable: true),
                    LatestVersion = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    ActiveVersionId = table.Column<string>(type: "text", nullable: true),
                    ActiveVersion = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    ReadmeDigest = table.Column<string>(type: "text", nullable: true),
                    OwnerId = table.Column<string>(type: "text", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_apps", x => x.Id);
                    table.ForeignKey(
                        name: "FK_apps_repos_RepoId",
                        column: x => x.RepoId,
                        principalTable: "repos",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "repo_syncs",
                columns: table => new
                {
                    Id = table.Column<string>(type: "text", nullable: false),
                    RepoId = table.Column<string>(type: "text", nullable: false),
                    Trigger = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    RequestedBy = table.Column<string>(type: "text", nullable: true),
                    Status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    QueuedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    Worker = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    Unchanged = table.Column<bool>(type: "boolean", nullable: false),
                    Added = table.Column<int>(type: "integer", nullable: false),
                    Updated = table.Column<int>(type: "integer", nullable: false),
                    Removed = table.Column<int>(type: "integer", nullable: false),
                    Failed = table.Column<int>(type: "integer", nullable: false),
                    PackagesFetched = table.Column<int>(type: "integer", nullable: false),
                    ErrorCode = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    ErrorMessage = table.Column<string>(type: "text", nullable: true),
                    Errors = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_repo_syncs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_repo_syncs_repos_RepoId",
                        column: x => x.RepoId,
                        principalTable: "repos",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "app_categories",
                columns: table => new
                {
                    AppId = table.Column<string>(type: "text", nullable: false),
                    CategoryId = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_app_categories", x => new { x.AppId, x.CategoryId });
                    table.ForeignKey(
                        name: "FK_app_categories_apps_AppId",
                        column: x => x.AppId,
                        principalTable: "apps",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_app_categories_categories_CategoryId",
                        column: x => x.CategoryId,
                        principalTable: "categories",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "app_versions",
                columns: table => new
                {
                    Id = table.Column<string>(type: "text", nullable: false),
                    AppId = table.Column<string>(type: "text", nullable: false),
                    RepoId = table.Column<string>(type: "text", nullable: false),
                    Version = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    SortKey = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    AppVersionLabel = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    Format = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    StatusChangedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Description = table.Column<string>(type: "text", nullable: true),
                    Icon = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true),
                    Home = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true),
                    Keywords = table.Column<string>(type: "text", nullable: false),
                    Maintainers = table.Column<string>(type: "text", nullable: false),
                    Sources = table.Column<string>(type: "text", nullable: false),
                    Screenshots = table.Column<string>(type: "text", nullable: false),
                    PackageUrl = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true),
                    Digest = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    PackageDigest = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    PackageSize = table.Column<long>(type: "bigint", nullable: true),
                    Created = table.Column<string>(type: "text", nullable: true),
                    EntryFingerprint = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    DetailsStatus = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    DetailsError = table.Column<string>(type: "text", nullable: true),
                    ReadmeDigest = table.Column<string>(type: "text", nullable: true),
                    ConfigDigest = table.Column<string>(type: "text", nullable: true),
                    ValuesDigest = table.Column<string>(type: "text", nullable: true),
                    ValuesSchemaDigest = table.Column<string>(type: "text", nullable: true),
                    Message = table.Column<string>(type: "text", nullable: true),
                    OwnerId = table.Column<string>(type: "text", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_app_versions", x => x.Id);
                    table.ForeignKey(
                        name: "FK_app_versions_apps_AppId",
                        column: x => x.AppId,
                        principalTable: "apps",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "app_version_events",
                columns: table => new
                {
                    Id = table.Column<string>(type: "text", nullable: false),
                    VersionId = table.Column<string>(type: "text", nullable: false),
                    AppId = table.Column<string>(type: "text", nullable: false),
                    Action = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    FromStatus = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    ToStatus = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    ActorId = table.Column<string>(type: "text", nullable: false),
                    ActorName = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ByReviewer = table.Column<bool>(type: "boolean", nullable: false),
                    Message = table.Column<string>(type: "text", nullable: true),
                    At = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_app_version_events", x => x.Id);
                    table.ForeignKey(
                        name: "FK_app_version_events_app_versions_VersionId",
                        column: x => x.VersionId,
                        principalTable: "app_versions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_app_categories_CategoryId",
                table: "app_categories",
                column: "CategoryId");

            migrationBuilder.CreateIndex(
                name: "IX_app_version_events_AppId_At",
                table: "app_version_events",
                columns: new[] { "AppId", "At" });

            migrationBuilder.CreateIndex(
                name: "IX_app_version_events_VersionId_At",
                table: "app_version_events",
                columns: new[] { "VersionId", "At" });

            migrationBuilder.CreateIndex(
                name: "IX_app_versions_AppId_SortKey",
                table: "app_versions",
                columns: new[] { "AppId", "SortKey" });

            migrationBuilder.CreateIndex(
                name: "IX_app_versions_AppId_Version",
                table: "app_versions",
                columns: new[] { "AppId", "Version" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_app_versions_RepoId_Status",
                table: "app_versions",
                columns: new[] { "RepoId", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_app_versions_Status",
                table: "app_versions",
                column: "Status");

            migrationBuilder.CreateIndex(
                name: "IX_apps_Name",
                table: "apps",
                column: "Name");

            migrationBuilder.CreateIndex(
                name: "IX_apps_RepoId_Name",
                table: "apps",
                columns: new[] { "RepoId", "Name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_apps_Status",
                table: "apps",
                column: "Status");

            migrationBuilder.CreateIndex(
                name: "IX_categories_Name",
                table: "categories",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_repo_syncs_RepoId_QueuedAt",
                table: "repo_syncs",
                columns: new[] { "RepoId", "QueuedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_repo_syncs_Status",
                table: "repo_syncs",
                column: "Status");

            migrationBuilder.CreateIndex(
                name: "IX_repos_GroupId",
                table: "repos",
                column: "GroupId");

            migrationBuilder.CreateIndex(
                name: "IX_repos_NextSyncAt",
                table: "repos",
                column: "NextSyncAt");

            migrationBuilder.CreateIndex(
                name: "IX_repos_OwnerId_Name",
                table: "repos",
                columns: new[] { "OwnerId", "Name" },
                unique: true);

            // Full-text search over apps: a generated, weighted tsvector (name > keywords/maintainers > description) with a GIN index.
            migrationBuilder.Sql("""
                ALTER TABLE apps ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
                  setweight(to_tsvector('simple', coalesce("Name", '')), 'A') ||
                  setweight(to_tsvector('simple', coalesce("SearchText", '')), 'B') ||
                  setweight(to_tsvector('simple', coalesce("Description", '')), 'C')) STORED;
                """);
            migrationBuilder.Sql("CREATE INDEX ix_apps_search_vector ON apps USING GIN (search_vector);");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP INDEX IF EXISTS ix_apps_search_vector;");
            migrationBuilder.Sql("ALTER TABLE apps DROP COLUMN IF EXISTS search_vector;");

            migrationBuilder.DropTable(
                name: "app_categories");

            migrationBuilder.DropTable(
                name: "app_version_events");

            migrationBuilder.DropTable(
                name: "blobs");

            migrationBuilder.DropTable(
                name: "repo_syncs");

            migrationBuilder.DropTable(
                name: "categories");

            migrationBuilder.DropTable(
                name: "app_versions");

            migrationBuilder.DropTable(
                name: "apps");

            migrationBuilder.DropTable(
                name: "repos");
        }
    }
}
