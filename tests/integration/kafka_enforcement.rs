//! Proof that the broker enforces what the admin layer writes: SCRAM logins and ACLs, created
//! and removed through librdkafka's admin API, against the real Kafka with StandardAuthorizer.

use std::time::Duration;

use rdkafka::{error::KafkaError, types::RDKafkaErrorCode};
use secrecy::SecretString;
use tributary_core::{KafkaUsername, TopicName};
use tributary_provisioning::{
    AclBinding, AclBindingFilter, AclOperation, AclPermission, KafkaAdmin, KafkaAdminError,
    PatternType, ResourceType, TopicSpec,
};
use tributary_tests::{Consumed, consume_as, kafka_admin, produce, unique};

const DEADLINE: Duration = Duration::from_secs(30);

struct Fixture {
    admin: KafkaAdmin,
    topic: TopicName,
    user: KafkaUsername,
    password: String,
    group_prefix: String,
}

/// A fresh topic with three messages and a fresh SCRAM user (no ACLs yet).
async fn fixture() -> Fixture {
    let admin = kafka_admin();
    let topic = TopicName::parse(unique("enforce")).expect("topic");
    admin
        .create_topic(&TopicSpec {
            name: topic.clone(),
            partitions: 1,
            replication_factor: 1,
            configs: vec![("retention.ms".into(), "3600000".into())],
        })
        .await
        .expect("create topic");
    produce(topic.as_str(), &["m-0", "m-1", "m-2"]).await;
    let user = KafkaUsername::parse(unique("sub")).expect("user");
    let password = uuid::Uuid::new_v4().to_string();
    admin
        .upsert_scram_user(&user, &SecretString::from(password.clone()))
        .await
        .expect("create SCRAM user");
    let group_prefix = format!("{}.", user.as_str());
    Fixture {
        admin,
        topic,
        user,
        password,
        group_prefix,
    }
}

fn is_authorization_failure(error: &KafkaError) -> bool {
    matches!(
        error.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::TopicAuthorizationFailed | RDKafkaErrorCode::GroupAuthorizationFailed
        )
    )
}

/// Retries `consume` until it yields an authorization error: ACL changes reach the broker's
/// authorizer asynchronously, a moment after the admin call returns.
async fn expect_refused(f: &Fixture, group: &str) -> KafkaError {
    for _ in 0..10 {
        match consume_as(
            f.user.as_str(),
            &f.password,
            f.topic.as_str(),
            group,
            1,
            Duration::from_secs(10),
        )
        .await
        {
            Consumed::Error(e) if is_authorization_failure(&e) => return e,
            other => {
                eprintln!("not refused yet: {other:?}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
    panic!("access was never refused");
}

#[tokio::test]
async fn subscriber_with_read_acls_consumes_the_topic() {
    let f = fixture().await;
    let acls = AclBinding::consumer_set(&f.user.principal(), &f.topic, &f.group_prefix);
    f.admin
        .create_acls(acls.clone())
        .await
        .expect("create ACLs");

    let mut listed = settled_acls(&f.admin, &f.user, acls.len()).await;
    listed.sort();
    let mut expected = acls;
    expected.sort();
    assert_eq!(
        listed, expected,
        "the broker holds exactly the bindings we wrote"
    );

    let group = format!("{}app", f.group_prefix);
    match consume_as(
        f.user.as_str(),
        &f.password,
        f.topic.as_str(),
        &group,
        3,
        DEADLINE,
    )
    .await
    {
        Consumed::Messages(messages) => assert_eq!(messages, ["m-0", "m-1", "m-2"]),
        other => panic!("expected the three messages, got {other:?}"),
    }
}

#[tokio::test]
async fn user_without_acls_is_refused() {
    let f = fixture().await;
    let error = expect_refused(&f, &format!("{}app", f.group_prefix)).await;
    eprintln!("refused as expected: {error}");
}

#[tokio::test]
async fn group_outside_the_prefix_is_refused() {
    let f = fixture().await;
    f.admin
        .create_acls(AclBinding::consumer_set(
            &f.user.principal(),
            &f.topic,
            &f.group_prefix,
        ))
        .await
        .expect("create ACLs");
    let error = expect_refused(&f, "someone-elses-group").await;
    assert_eq!(
        error.rdkafka_error_code(),
        Some(RDKafkaErrorCode::GroupAuthorizationFailed),
        "{error}"
    );
}

#[tokio::test]
async fn deleting_the_acls_revokes_access() {
    let f = fixture().await;
    let acls = AclBinding::consumer_set(&f.user.principal(), &f.topic, &f.group_prefix);
    f.admin
        .create_acls(acls.clone())
        .await
        .expect("create ACLs");
    let group = format!("{}before", f.group_prefix);
    assert!(
        matches!(
            consume_as(
                f.user.as_str(),
                &f.password,
                f.topic.as_str(),
                &group,
                1,
                DEADLINE
            )
            .await,
            Consumed::Messages(_)
        ),
        "access works before revocation"
    );

    let deleted = f
        .admin
        .delete_acls(vec![AclBindingFilter::for_principal(&f.user.principal())])
        .await
        .expect("delete ACLs");
    assert_eq!(deleted.len(), 3, "{deleted:?}");
    let left = settled_acls(&f.admin, &f.user, 0).await;
    assert!(left.is_empty(), "{left:?}");

    expect_refused(&f, &format!("{}after", f.group_prefix)).await;
}

#[tokio::test]
async fn wrong_password_fails_authentication() {
    let f = fixture().await;
    f.admin
        .create_acls(AclBinding::consumer_set(
            &f.user.principal(),
            &f.topic,
            &f.group_prefix,
        ))
        .await
        .expect("create ACLs");
    let group = format!("{}app", f.group_prefix);
    match consume_as(
        f.user.as_str(),
        "not-the-password",
        f.topic.as_str(),
        &group,
        1,
        DEADLINE,
    )
    .await
    {
        Consumed::Error(e) => {
            let text = e.to_string();
            assert!(
                e.rdkafka_error_code() == Some(RDKafkaErrorCode::Authentication)
                    || text.contains("Authentication failed"),
                "expected an authentication failure, got {e:?}"
            );
        }
        other => panic!("expected an authentication failure, got {other:?}"),
    }
}

#[tokio::test]
async fn scram_credentials_are_described_and_deleted() {
    let f = fixture().await;
    let described = f
        .admin
        .describe_scram_users(std::slice::from_ref(&f.user))
        .await
        .expect("describe");
    assert_eq!(described.len(), 1);
    assert_eq!(described[0].user, f.user.as_str());
    assert_eq!(described[0].credentials.len(), 1);
    assert_eq!(described[0].credentials[0].mechanism, "SCRAM-SHA-512");
    assert_eq!(
        described[0].credentials[0].iterations,
        tributary_provisioning::SCRAM_ITERATIONS
    );

    f.admin.delete_scram_user(&f.user).await.expect("delete");
    f.admin
        .delete_scram_user(&f.user)
        .await
        .expect("deleting twice is not an error");
    let described = f
        .admin
        .describe_scram_users(std::slice::from_ref(&f.user))
        .await
        .expect("describe");
    assert!(
        described.iter().all(|d| d.credentials.is_empty()),
        "{described:?}"
    );

    // With the credential gone, even the right password no longer logs in.
    f.admin
        .create_acls(AclBinding::consumer_set(
            &f.user.principal(),
            &f.topic,
            &f.group_prefix,
        ))
        .await
        .expect("create ACLs");
    let group = format!("{}app", f.group_prefix);
    assert!(matches!(
        consume_as(
            f.user.as_str(),
            &f.password,
            f.topic.as_str(),
            &group,
            1,
            DEADLINE
        )
        .await,
        Consumed::Error(_)
    ));
}

/// The user's ACL bindings once the broker reports `expected` of them (or after 10 s, whatever it
/// reports then). KRaft applies ACL changes through its metadata log, so DescribeAcls may lag
/// CreateAcls/DeleteAcls for a moment on a busy machine.
async fn settled_acls(
    admin: &KafkaAdmin,
    user: &KafkaUsername,
    expected: usize,
) -> Vec<AclBinding> {
    let mut listed = Vec::new();
    for _ in 0..50 {
        listed = admin
            .describe_acls(AclBindingFilter::for_principal(&user.principal()))
            .await
            .expect("describe ACLs");
        if listed.len() == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    listed
}

#[tokio::test]
async fn admin_operations_are_idempotent() {
    let f = fixture().await;
    let acls = AclBinding::consumer_set(&f.user.principal(), &f.topic, &f.group_prefix);
    f.admin.create_acls(acls.clone()).await.expect("first");
    f.admin
        .create_acls(acls)
        .await
        .expect("second create of the same ACLs");
    let listed = settled_acls(&f.admin, &f.user, 3).await;
    assert_eq!(listed.len(), 3, "no duplicates: {listed:?}");

    f.admin
        .upsert_scram_user(&f.user, &SecretString::from(f.password.clone()))
        .await
        .expect("upsert again");

    let spec = TopicSpec {
        name: f.topic.clone(),
        partitions: 1,
        replication_factor: 1,
        configs: vec![],
    };
    assert!(matches!(
        f.admin.create_topic(&spec).await,
        Err(KafkaAdminError::TopicExists(_))
    ));
    f.admin
        .ensure_topic(&spec)
        .await
        .expect("ensure tolerates an existing topic");
    assert!(f.admin.topic_exists(&f.topic).await.expect("exists"));
    f.admin.delete_topic(&f.topic).await.expect("delete");
    f.admin
        .delete_topic(&f.topic)
        .await
        .expect("deleting twice is not an error");
}

#[tokio::test]
async fn invalid_admin_input_is_refused_with_a_typed_error() {
    let admin = kafka_admin();
    let user = KafkaUsername::parse(unique("sub")).expect("user");
    let empty = admin
        .upsert_scram_user(&user, &SecretString::from(String::new()))
        .await;
    assert!(
        matches!(
            empty,
            Err(KafkaAdminError::InvalidArgument {
                field: "password",
                ..
            })
        ),
        "{empty:?}"
    );

    let nul = AclBinding {
        resource_type: ResourceType::Topic,
        resource_name: "bad\0name".into(),
        pattern_type: PatternType::Literal,
        principal: user.principal().as_str().into(),
        host: "*".into(),
        operation: AclOperation::Read,
        permission: AclPermission::Allow,
    };
    let result = admin.create_acls(vec![nul]).await;
    assert!(
        matches!(result, Err(KafkaAdminError::InvalidArgument { .. })),
        "{result:?}"
    );

    // The broker rejects a principal without a type; the error names the failing entry.
    let untyped = AclBinding {
        resource_type: ResourceType::Topic,
        resource_name: "t".into(),
        pattern_type: PatternType::Literal,
        principal: "no-type".into(),
        host: "*".into(),
        operation: AclOperation::Read,
        permission: AclPermission::Allow,
    };
    let result = admin.create_acls(vec![untyped]).await;
    assert!(result.is_err(), "{result:?}");
}

#[tokio::test]
async fn an_unreachable_broker_times_out_with_a_typed_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let mut config = tributary_tests::kafka_config();
    config.bootstrap_servers = format!("127.0.0.1:{port}");
    let admin = KafkaAdmin::new(&config, Duration::from_secs(2)).expect("client");
    let user = KafkaUsername::parse(unique("sub")).expect("user");
    let result = admin
        .describe_acls(AclBindingFilter::for_principal(&user.principal()))
        .await;
    let error = result.expect_err("no broker");
    assert!(error.is_transient(), "{error:?} should be retryable");
    let info = admin.cluster_info().await;
    assert!(info.is_err());
}
