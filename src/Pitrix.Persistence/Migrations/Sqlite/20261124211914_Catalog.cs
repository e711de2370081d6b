using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pitrix.Persistence.Migrations.Sqlite
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
                    Digest = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    MediaType = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    Size = table.Column<long>(type: "INTEGER", nullable: false),
                    Content = table.Column<byte[]>(type: "BLOB", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_blobs", x => x.Digest);
                });

            migrationBuilder.CreateTable(
                name: "categories",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Locale = table.Column<string>(type: "TEXT", nullable: false),
                    Description = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    Icon = table.Column<string>(type: "TEXT", maxLength: 65536, nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_categories", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "repos",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Description = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    Type = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Url = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                    CredentialCiphertext = table.Column<string>(type: "TEXT", nullable: true),
                    CaBundlePem = table.Column<string>(type: "TEXT", nullable: true),
                    Providers = table.Column<string>(type: "TEXT", nullable: false),
                    Labels = table.Column<string>(type: "TEXT", nullable: false),
                    Selectors = table.Column<string>(type: "TEXT", nullable: false),
                    GroupIds = table.Column<string>(type: "TEXT", nullable: false),
                    SyncIntervalSeconds = table.Column<int>(type: "INTEGER", nullable: false),
                    DefaultStatus = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    FetchPackages = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    WebhookSecretCiphertext = table.Column<string>(type: "TEXT", nullable: true),
                    OwnerId = table.Column<string>(type: "TEXT", nullable: false),
                    GroupId = table.Column<string>(type: "TEXT", nullable: true),
                    Visibility = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    SyncLeaseOwner = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    SyncLeaseExpiresAt = table.Column<long>(type: "INTEGER", nullable: true),
                    NextSyncAt = table.Column<long>(type: "INTEGER", nullable: true),
                    IndexETag = table.Column<string>(type: "TEXT", maxLength: 512, nullable: true),
                    IndexLastModified = table.Column<long>(type: "INTEGER", nullable: true),
                    IndexDigest = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    LastSyncId = table.Column<string>(type: "TEXT", nullable: true),
                    LastSyncStatus = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    LastSyncAt = table.Column<long>(type: "INTEGER", nullable: true),
                    LastSyncError = table.Column<string>(type: "TEXT", nullable: true)
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
                    Id = table.Column<string>(type: "TEXT", nullable: false),
                    RepoId = table.Column<string>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    Format = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Description = table.Column<string>(type: "TEXT", nullable: true),
                    Icon = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                    Home = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                    Keywords = table.Column<string>(type: "TEXT", nullable: false),
                    Maintainers = table.Column<string>(type: "TEXT", nullable: false),
                    Sources = table.Column<string>(type: "TEXT", nullable: false),
                    Screenshots = table.Column<string>(type: "TEXT", nullable: false),
                    SearchText = table.Column<string>(type: "TEXT", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    LatestVersionId = table.Column<string>(type: "TEXT", nullable: true),
                    LatestVersion = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    ActiveVersionId = table.Column<string>(type: "TEXT", nullable: true),
                    ActiveVersion = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    ReadmeDigest = table.Column<string>(type: "TEXT", nullable: true),
                    OwnerId = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false)
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
                    Id = table.Column<string>(type: "TEXT", nullable: false),
                    RepoId = table.Column<string>(type: "TEXT", nullable: false),
                    Trigger = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    RequestedBy = table.Column<string>(type: "TEXT", nullable: true),
                    Status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    QueuedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    StartedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    FinishedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Worker = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    Unchanged = table.Column<bool>(type: "INTEGER", nullable: false),
                    Added = table.Column<int>(type: "INTEGER", nullable: false),
                    Updated = table.Column<int>(type: "INTEGER", nullable: false),
                    Removed = table.Column<int>(type: "INTEGER", nullable: false),
                    Failed = table.Column<int>(type: "INTEGER", nullable: false),
                    PackagesFetched = table.Column<int>(type: "INTEGER", nullable: false),
                    ErrorCode = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    ErrorMessage = table.Column<string>(type: "TEXT", nullable: true),
                    Errors = table.Column<string>(type: "TEXT", nullable: false)
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
                    AppId = table.Column<string>(type: "TEXT", nullable: false),
                    CategoryId = table.Column<string>(type: "TEXT", nullable: false)
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
                    Id = table.Column<string>(type: "TEXT", nullable: false),
                    AppId = table.Column<string>(type: "TEXT", nullable: false),
                    RepoId = table.Column<string>(type: "TEXT", nullable: false),
                    Version = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    SortKey = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    AppVersionLabel = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    Format = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    StatusChangedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    Description = table.Column<string>(type: "TEXT", nullable: true),
                    Icon = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                    Home = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                    Keywords = table.Column<string>(type: "TEXT", nullable: false),
                    Maintainers = table.Column<string>(type: "TEXT", nullable: false),
                    Sources = table.Column<string>(type: "TEXT", nullable: false),
                    Screenshots = table.Column<string>(type: "TEXT", nullable: false),
                    PackageUrl = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                    Digest = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    PackageDigest = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    PackageSize = table.Column<long>(type: "INTEGER", nullable: true),
                    Created = table.Column<string>(type: "TEXT", nullable: true),
                    EntryFingerprint = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    DetailsStatus = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    DetailsError = table.Column<string>(type: "TEXT", nullable: true),
                    ReadmeDigest = table.Column<string>(type: "TEXT", nullable: true),
                    ConfigDigest = table.Column<string>(type: "TEXT", nullable: true),
                    ValuesDigest = table.Column<string>(type: "TEXT", nullable: true),
                    ValuesSchemaDigest = table.Column<string>(type: "TEXT", nullable: true),
                    Message = table.Column<string>(type: "TEXT", nullable: true),
                    OwnerId = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false)
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
                    Id = table.Column<string>(type: "TEXT", nullable: false),
                    VersionId = table.Column<string>(type: "TEXT", nullable: false),
                    AppId = table.Column<string>(type: "TEXT", nullable: false),
                    Action = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    FromStatus = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    ToStatus = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ActorId = table.Column<string>(type: "TEXT", nullable: false),
                    ActorName = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    ByReviewer = table.Column<bool>(type: "INTEGER", nullable: false),
                    Message = table.Column<string>(type: "TEXT", nullable: true),
                    At = table.Column<long>(type: "INTEGER", nullable: false)
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

            // Full-text search over apps (FTS5), kept in step by triggers so no code path can forget it.
            migrationBuilder.Sql("""
                CREATE VIRTUAL TABLE apps_fts USING fts5(name, description, search_text, tokenize = 'unicode61 remove_diacritics 2');
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER apps_fts_insert AFTER INSERT ON apps BEGIN
                  INSERT INTO apps_fts(rowid, name, description, search_text) VALUES (new.rowid, new."Name", coalesce(new."Description", ''), new."SearchText");
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER apps_fts_update AFTER UPDATE OF "Name", "Description", "SearchText" ON apps BEGIN
                  DELETE FROM apps_fts WHERE rowid = old.rowid;
                  INSERT INTO apps_fts(rowid, name, description, search_text) VALUES (new.rowid, new."Name", coalesce(new."Description", ''), new."SearchText");
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER apps_fts_delete AFTER DELETE ON apps BEGIN
                  DELETE FROM apps_fts WHERE rowid = old.rowid;
                END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS apps_fts_insert;");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS apps_fts_update;");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS apps_fts_delete;");
            migrationBuilder.Sql("DROP TABLE IF EXISTS apps_fts;");

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
