use tributary_tests::TestDb;

#[tokio::test]
async fn migrations_apply_once_and_report_current() {
    let db = TestDb::empty().await;
    let pool = db.pool().await;
    let before = tributary_db::migration_status(&pool).await.expect("status");
    assert!(!before.is_current());
    assert_eq!(before.pending.len(), tributary_db::MIGRATOR.iter().count());

    tributary_db::migrate(&pool).await.expect("first run");
    tributary_db::migrate(&pool)
        .await
        .expect("second run is a no-op");
    let after = tributary_db::migration_status(&pool).await.expect("status");
    assert!(after.is_current(), "{after}");
}

#[tokio::test]
async fn a_migration_edited_after_apply_is_detected() {
    let (_db, pool) = TestDb::migrated().await;
    sqlx::query("update _sqlx_migrations set checksum = '\\x00' where version = (select min(version) from _sqlx_migrations)")
        .execute(&pool)
        .await
        .expect("tamper");
    let status = tributary_db::migration_status(&pool).await.expect("status");
    assert_eq!(status.modified.len(), 1);
    assert!(!status.is_current());
    assert!(status.to_string().contains("modified after apply"));
}

#[tokio::test]
async fn constraints_guard_the_data() {
    let (_db, pool) = TestDb::migrated().await;
    sqlx::query("insert into organizations (slug, name) values ('acme', 'Acme')")
        .execute(&pool)
        .await
        .expect("first org");
    let dup = sqlx::query("insert into organizations (slug, name) values ('acme', 'Other')")
        .execute(&pool)
        .await
        .expect_err("duplicate slug");
    assert_eq!(
        dup.as_database_error().and_then(|e| e.constraint()),
        Some("organizations_slug_key")
    );
    let bad = sqlx::query("insert into organizations (slug, name) values ('Bad Slug!', 'X')")
        .execute(&pool)
        .await
        .expect_err("bad slug");
    assert_eq!(
        bad.as_database_error().and_then(|e| e.constraint()),
        Some("organizations_slug_format")
    );
    sqlx::query(
        "insert into organizations (slug, name, is_operator) values ('op-one', 'Op', true)",
    )
    .execute(&pool)
    .await
    .expect("one operator");
    let second = sqlx::query(
        "insert into organizations (slug, name, is_operator) values ('op-two', 'Op2', true)",
    )
    .execute(&pool)
    .await
    .expect_err("only one operator");
    assert_eq!(
        second.as_database_error().and_then(|e| e.constraint()),
        Some("organizations_single_operator")
    );
}
