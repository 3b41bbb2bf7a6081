//! Notifications and webhooks without HTTP: the inbox, who sees which
//! webhook, the URL rules, and the worker delivering to a local receiver
//! with retries.

use super::delivery_body;
use crate::tests::{actor_of, bare_platform, operator_and_two_tenants};
use crate::webhooks::schedule::Schedule;
use crate::webhooks::{WebhookConfig, signature};
use crate::{Error, Platform};
use serde_json::{Value, json};
use spleis_domain::notifications::{
    DeliveryStatus, MAX_WEBHOOKS, NewWebhook, Notification, NotificationKind, WebhookError,
};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

fn accounts(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn each_account_reads_and_marks_its_own_inbox() {
    let (platform, _guard) = bare_platform().await;
    let (op, a) = operator_and_two_tenants(&platform).await;
    let b = actor_of(&platform, "b").await;
    platform
        .notify(
            &accounts(&["a", "b", "a", "ghost"]),
            NotificationKind::RequestStatus,
            "req-1",
            "Request req-1 was accepted.",
            json!({"status": "accepted"}),
        )
        .await
        .unwrap();
    platform
        .notify(
            &accounts(&["a"]),
            NotificationKind::InvoiceIssued,
            &"s".repeat(500),
            &"t".repeat(5000),
            Value::Null,
        )
        .await
        .unwrap();
    let inbox = platform.notifications(&a, false, 10).await.unwrap();
    assert_eq!(inbox.unread, 2, "told once though named twice");
    assert_eq!(inbox.items[0].kind, NotificationKind::InvoiceIssued);
    assert_eq!(inbox.items[0].subject.chars().count(), 201, "cut, with …");
    assert_eq!(inbox.items[0].text.chars().count(), 1001);
    assert_eq!(inbox.items[1].data, json!({"status": "accepted"}));
    assert!(
        platform
            .notifications(&op, false, 10)
            .await
            .unwrap()
            .items
            .is_empty()
    );

    // B cannot mark A's notification; A marks one, then all.
    let first = inbox.items[1].id.clone();
    assert_eq!(
        platform
            .mark_read(&b, Some(vec![first.clone()]))
            .await
            .unwrap(),
        0
    );
    assert_eq!(platform.mark_read(&a, Some(vec![first])).await.unwrap(), 1);
    let unread = platform.notifications(&a, true, 10).await.unwrap();
    assert_eq!((unread.items.len(), unread.unread), (1, 1));
    assert_eq!(platform.unread_notifications(&b).await.unwrap(), 1);
    assert_eq!(platform.mark_read(&a, None).await.unwrap(), 1);
    assert_eq!(platform.unread_notifications(&a).await.unwrap(), 0);

    assert!(matches!(
        platform.notifications(&a, false, 0).await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        platform.mark_read(&a, Some(vec!["x".into(); 1001])).await,
        Err(Error::Invalid(_))
    ));
    let huge = json!({"blob": "x".repeat(20_000)});
    assert!(matches!(
        platform
            .notify(
                &accounts(&["a"]),
                NotificationKind::RequestComment,
                "r",
                "t",
                huge
            )
            .await,
        Err(Error::Invalid(_))
    ));
}

#[test]
fn the_body_carries_the_notification_and_its_data() {
    let notification = Notification {
        id: "n1".into(),
        kind: NotificationKind::FundingReached,
        subject: "req-7".into(),
        text: "Funding reached its goal.".into(),
        data: json!({"goal_minor": 100, "subject": "spoofed"}),
        created_at: 1_700_000_000_000,
        read: false,
    };
    let body: Value = serde_json::from_str(&delivery_body(&notification)).unwrap();
    assert_eq!(
        body,
        json!({"id": "n1", "type": "funding-reached", "created_at": 1_700_000_000_000i64,
               "data": {"goal_minor": 100, "subject": "req-7", "text": "Funding reached its goal."}})
    );
}

#[tokio::test]
async fn webhooks_go_only_to_public_https_and_are_each_accounts_own() {
    let (platform, _guard) = bare_platform().await;
    let (op, a) = operator_and_two_tenants(&platform).await;
    let b = actor_of(&platform, "b").await;
    let new = |url: &str| NewWebhook {
        url: url.into(),
        events: vec![],
    };
    for (url, word) in [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://10.0.0.1/hook", "private"),
        ("https://[fd00::1]/hook", "unique-local"),
        ("https://169.254.169.254/latest", "link-local"),
        ("http://10.0.0.1/", "https"),
        ("https://u:p@hooks.example.com/", "password"),
        ("https://localhost/", "loopback"),
    ] {
        let refused = platform.add_webhook(&a, new(url)).await.unwrap_err();
        assert!(
            matches!(refused, Error::Webhook(_)) && refused.to_string().contains(word),
            "{url}: {refused}"
        );
    }

    // With the operator's flag, loopback and plain HTTP are accepted.
    let platform = platform.with_webhooks(WebhookConfig {
        allow_private: true,
        ..Default::default()
    });
    let created = platform
        .add_webhook(
            &a,
            NewWebhook {
                url: "http://127.0.0.1:9/hook".into(),
                events: vec![
                    NotificationKind::InvoiceIssued,
                    NotificationKind::InvoiceIssued,
                ],
            },
        )
        .await
        .unwrap();
    assert!(created.secret.starts_with("whsec_") && created.secret.len() == 6 + 64);
    assert_eq!(created.webhook.events, [NotificationKind::InvoiceIssued]);
    let listed = platform.webhooks(&a).await.unwrap();
    assert_eq!(listed, std::slice::from_ref(&created.webhook));
    assert!(!serde_json::to_string(&listed).unwrap().contains("whsec_"));

    // B and the operator neither see nor remove nor read A's webhook.
    let id = &created.webhook.id;
    for other in [&b, &op] {
        assert!(platform.webhooks(other).await.unwrap().is_empty());
        assert!(matches!(
            platform.remove_webhook(other, id).await,
            Err(Error::Webhook(WebhookError::NotFound(_)))
        ));
        assert!(matches!(
            platform.webhook_deliveries(other, id, 10).await,
            Err(Error::Webhook(WebhookError::NotFound(_)))
        ));
    }
    for n in 1..MAX_WEBHOOKS {
        platform
            .add_webhook(&a, new(&format!("http://127.0.0.1:9/{n}")))
            .await
            .unwrap();
    }
    assert!(matches!(
        platform
            .add_webhook(&a, new("http://127.0.0.1:9/more"))
            .await,
        Err(Error::Webhook(WebhookError::TooMany { .. }))
    ));
    platform.remove_webhook(&a, id).await.unwrap();
    assert_eq!(platform.webhooks(&a).await.unwrap().len(), MAX_WEBHOOKS - 1);
}

/// A request's headers (names lowercase) and body.
type Request = (Vec<(String, String)>, String);

/// A receiver on loopback that answers the statuses of `script` in turn
/// (then 200), and hands back each request's headers and body.
fn receiver(script: Vec<u16>) -> (String, mpsc::Receiver<Request>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut script = script.into_iter();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
                }
            }
            let length = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let status = script.next().unwrap_or(200);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
            );
            let _ = tx.send((headers, String::from_utf8_lossy(&body).into_owned()));
        }
    });
    (url, rx)
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> &'h str {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_signs_retries_and_logs_every_try() {
    let (platform, _guard) = bare_platform().await;
    let platform = Arc::new(platform.with_webhooks(WebhookConfig {
        allow_private: true,
        schedule: Schedule { scale: 0.001 },
        ..Default::default()
    }));
    let (_op, a) = operator_and_two_tenants(&platform).await;
    let (url, got) = receiver(vec![500, 503]);
    let created = platform
        .add_webhook(
            &a,
            NewWebhook {
                url,
                events: vec![NotificationKind::InvoiceIssued],
            },
        )
        .await
        .unwrap();
    platform.spawn_webhook_worker();
    // Not subscribed: no delivery.
    platform
        .notify(
            &accounts(&["a"]),
            NotificationKind::UpgradePending,
            "p",
            "t",
            json!({}),
        )
        .await
        .unwrap();
    platform
        .notify(
            &accounts(&["a"]),
            NotificationKind::InvoiceIssued,
            "INV-1",
            "Invoice INV-1 was issued.",
            json!({"total_minor": 500}),
        )
        .await
        .unwrap();

    let mut bodies = Vec::new();
    for _ in 0..3 {
        let (headers, body) =
            tokio::task::block_in_place(|| got.recv_timeout(Duration::from_secs(20)))
                .expect("a try reaches the receiver");
        let signed = header(&headers, "spleis-signature");
        let t: i64 = signed
            .split(',')
            .find_map(|p| p.strip_prefix("t="))
            .and_then(|t| t.parse().ok())
            .expect("t=");
        assert!(
            signature::verify(&created.secret, signed, body.as_bytes(), t, 0),
            "{signed}"
        );
        assert_eq!(header(&headers, "spleis-event"), "invoice-issued");
        assert_eq!(header(&headers, "content-type"), "application/json");
        bodies.push((header(&headers, "spleis-delivery").to_owned(), body));
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "the same delivery and bytes each try"
    );
    let body: Value = serde_json::from_str(&bodies[0].1).unwrap();
    assert_eq!(body["type"], "invoice-issued");
    assert_eq!(body["data"]["subject"], "INV-1");
    assert_eq!(body["data"]["total_minor"], 500);

    let log = wait_for(
        &platform,
        &a,
        &created.webhook.id,
        DeliveryStatus::Delivered,
    )
    .await;
    assert_eq!(log.id, bodies[0].0);
    let tries: Vec<_> = log
        .attempts
        .iter()
        .map(|t| (t.attempt, t.status_code, t.outcome))
        .collect();
    assert_eq!(
        tries,
        [
            (1, Some(500), DeliveryStatus::Pending),
            (2, Some(503), DeliveryStatus::Pending),
            (3, Some(200), DeliveryStatus::Delivered)
        ]
    );
    assert!(log.attempts[0].next_try_at.is_some());
    assert_eq!(log.attempts[0].error.as_deref(), Some("answered: ok"));
    assert!(log.attempts[2].next_try_at.is_none() && log.attempts[2].error.is_none());
    platform.drain().await;
}

/// Waits until the webhook's newest delivery is `status`; that delivery.
async fn wait_for(
    platform: &Platform,
    actor: &crate::Actor,
    webhook: &str,
    status: DeliveryStatus,
) -> spleis_domain::notifications::WebhookDelivery {
    for _ in 0..400 {
        let log = platform
            .webhook_deliveries(actor, webhook, 10)
            .await
            .unwrap();
        if let Some(newest) = log.first()
            && newest.status == status
        {
            return newest.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the delivery never became {status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_never_answers_well_is_given_up_within_the_day() {
    let (platform, _guard) = bare_platform().await;
    // A day is 86 ms here.
    let platform = Arc::new(platform.with_webhooks(WebhookConfig {
        allow_private: true,
        schedule: Schedule { scale: 0.000_001 },
        ..Default::default()
    }));
    let (_op, a) = operator_and_two_tenants(&platform).await;
    let (url, _got) = receiver(vec![500; 100]);
    let created = platform
        .add_webhook(
            &a,
            NewWebhook {
                url,
                events: vec![],
            },
        )
        .await
        .unwrap();
    platform.spawn_webhook_worker();
    platform
        .notify(
            &accounts(&["a"]),
            NotificationKind::StatementIssued,
            "ST-1",
            "t",
            json!({}),
        )
        .await
        .unwrap();
    let log = wait_for(&platform, &a, &created.webhook.id, DeliveryStatus::Failed).await;
    let last = log.attempts.last().unwrap();
    assert_eq!(
        (last.outcome, last.next_try_at),
        (DeliveryStatus::Failed, None)
    );
    assert!(log.attempts.iter().all(|t| t.status_code == Some(500)));
    assert!(log.attempts.len() >= 2, "{:?}", log.attempts);
    platform.drain().await;
}
