//! Mail leaves through the outbox: to a real SMTP server when one is configured.

use std::time::Duration;

use serde_json::json;
use tributary_tests::{TEST_PASSWORD, TestApp, smtp_maildir, unique};

/// Every message file the SMTP server stored (maildir `new/` and `cur/`).
fn received() -> Vec<String> {
    let mut mails = Vec::new();
    for sub in ["new", "cur"] {
        if let Ok(entries) = std::fs::read_dir(smtp_maildir().join(sub)) {
            for entry in entries.flatten() {
                if let Ok(text) = std::fs::read_to_string(entry.path()) {
                    mails.push(text);
                }
            }
        }
    }
    mails
}

#[tokio::test]
async fn verification_mail_goes_through_the_smtp_server() {
    let app = TestApp::spawn_with_smtp().await;
    let email = format!("{}@example.com", unique("smtp"));
    let response = app
        .graphql(
            "mutation($input: SignUpInput!) { signUp(input: $input) { message } }",
            json!({ "input": { "email": email, "password": TEST_PASSWORD, "displayName": "Sam", "organizationName": unique("Smtp Org") } }),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");

    let mut found = None;
    for _ in 0..100 {
        found = received().into_iter().find(|m| m.contains(&email));
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mail = found.expect("the SMTP server received the verification mail");
    assert!(
        mail.contains("Subject: Verify your email for Tributary"),
        "{mail}"
    );
    assert!(
        mail.contains("http://portal.test/verify-email?token="),
        "{mail}"
    );
    assert!(mail.contains("Message-ID: <outbox-"), "{mail}");

    let (transport, local): (String, i64) = sqlx::query_as(
        "select d.transport, (select count(*) from mailbox) from mail_deliveries d join outbox o on o.id = d.outbox_id where o.payload->>'to' = $1",
    )
    .bind(&email)
    .fetch_one(&app.pool)
    .await
    .expect("delivery record");
    assert_eq!(transport, "smtp");
    assert_eq!(local, 0, "nothing went to the local mailbox");
}
