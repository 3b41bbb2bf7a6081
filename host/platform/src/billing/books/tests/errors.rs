//! Refusals are typed, and stored values that do not parse are corrupt
//! data naming their table, row and column — never read as zero.

use super::*;
use spleis_billing::bounds::InputError;
use spleis_billing::discounts::{Discount, DiscountAmount};
use spleis_billing::period::CloseOrderError;
use spleis_billing::rating::PlanError;
use spleis_domain::billing::{BillingError, Corrupt};

/// Runs `sql` as is (test tampering with stored rows).
async fn tamper(store: &Store, sql: &str) {
    testing::execute(store, sql).await;
}

fn corrupt(error: BillingError) -> Corrupt {
    match error {
        BillingError::Corrupt(corrupt) => corrupt,
        other => panic!("expected corrupt data, got {other:?}"),
    }
}

#[tokio::test]
async fn refusals_are_typed_and_name_the_field() {
    for (store, _guard) in testing::all().await {
        let store = Books(&store);
        setup(&store).await;
        let mut usd = plan();
        usd.currency = Currency::new("USD").unwrap();
        let error = store
            .set_plan("acme/tariff", &usd, "acme", at(10, 1))
            .await
            .unwrap_err();
        assert!(
            matches!(error, BillingError::Plan(PlanError::Currency { .. })),
            "{error:?}"
        );
        let error = store
            .set_agreement("acme/tariff", None, Some(10_001), None, None, 0)
            .await
            .unwrap_err();
        assert!(
            matches!(
                &error,
                BillingError::Input(InputError::OutOfRange {
                    field: "the platform fee",
                    value: 10_001,
                    ..
                })
            ),
            "{error:?}"
        );
        assert!(error.to_string().contains("0 to 10000"), "{error}");
        let error = store
            .invest("acme/tariff", "tenant-a", 100, 0, at(10, 1))
            .await
            .unwrap_err();
        assert!(
            matches!(error, BillingError::NoInvestorShare { .. }),
            "{error:?}"
        );
        let reversed = Discount {
            reason: "r".into(),
            amount: DiscountAmount::Percent { bps: 100 },
            from: p("2026-11"),
            to: p("2026-10"),
        };
        let error = store
            .add_discount("tenant-a", &reversed, 0)
            .await
            .unwrap_err();
        assert!(
            matches!(error, BillingError::Input(InputError::Reversed { .. })),
            "{error:?}"
        );

        store
            .set_plan("acme/tariff", &plan(), "acme", at(10, 1))
            .await
            .unwrap();
        let error = store
            .set_billing_settings(Some(Currency::new("USD").unwrap()), None)
            .await
            .unwrap_err();
        assert!(
            matches!(error, BillingError::CurrencyLocked { .. }),
            "{error:?}"
        );
        let error = store
            .close_period(p("2026-10"), "op", false, at(10, 20))
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                BillingError::CloseOrder(CloseOrderError::UnderWay { .. })
            ),
            "{error:?}"
        );

        let now = at(10, 1);
        let campaign = store
            .create_campaign("acme/tariff", "dark mode", 1_000, now + 10, 0, "acme", now)
            .await
            .unwrap();
        let error = store
            .close_campaign(&campaign.id, now + 5)
            .await
            .unwrap_err();
        assert!(
            matches!(error, BillingError::CampaignRunning { .. }),
            "{error:?}"
        );
        let error = store
            .pledge(&campaign.id, "tenant-a", 100, now + 20)
            .await
            .unwrap_err();
        assert!(
            matches!(error, BillingError::CampaignClosed { .. }),
            "{error:?}"
        );
        let error = store
            .create_campaign("acme/tariff", " ", 1_000, now + 10, 0, "acme", now)
            .await
            .unwrap_err();
        assert!(
            matches!(error, BillingError::Input(InputError::Empty { .. })),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn a_stored_value_that_does_not_parse_is_corrupt_data_never_zero() {
    for (store, _guard) in testing::all().await {
        let store = Books(&store);
        setup(&store).await;
        store
            .set_plan("acme/tariff", &plan(), "acme", at(10, 1))
            .await
            .unwrap();
        store
            .insert_usage(&[call(
                "tenant-a",
                "1",
                OutcomeKind::Ok,
                Some("C-1"),
                at(10, 2),
            )])
            .await
            .unwrap();

        // An outcome no call can have.
        tamper(&store, "UPDATE usage_records SET outcome = 'exploded'").await;
        let error = corrupt(
            store
                .close_period(p("2026-10"), "op", false, at(11, 1))
                .await
                .unwrap_err(),
        );
        assert_eq!((error.table, error.column), ("usage_records", "outcome"));
        assert!(
            error.key.starts_with("tenant-a/acme/tariff/quote/exploded"),
            "{error}"
        );
        tamper(&store, "UPDATE usage_records SET outcome = 'ok'").await;

        // Negative units are not zero units.
        tamper(
            &store,
            "UPDATE usage_units SET quantity = -3, unit_key = ''",
        )
        .await;
        let error = corrupt(store.preview_period(p("2026-10")).await.unwrap_err());
        assert_eq!((error.table, error.column), ("usage_units", "quantity"));
        tamper(&store, "UPDATE usage_units SET quantity = 1").await;

        // A discount whose amount is not JSON, a period that is not one.
        let discount = Discount {
            reason: "r".into(),
            amount: DiscountAmount::Fixed { minor: 5 },
            from: p("2026-10"),
            to: p("2026-10"),
        };
        let id = store.add_discount("tenant-a", &discount, 0).await.unwrap();
        tamper(&store, "UPDATE discounts SET amount = 'five'").await;
        let error = corrupt(store.preview_period(p("2026-10")).await.unwrap_err());
        assert_eq!(
            (error.table, error.key.as_str(), error.column),
            ("discounts", id.as_str(), "amount")
        );
        tamper(&store, "DELETE FROM discounts").await;

        tamper(&store, "UPDATE billing_state SET last_closed = 'soon'").await;
        let error = corrupt(store.billing_settings().await.unwrap_err());
        assert_eq!(
            (error.table, error.key.as_str(), error.column),
            ("billing_state", "1", "last_closed")
        );
        tamper(&store, "UPDATE billing_state SET last_closed = NULL").await;

        // A payout below zero is not a payout of zero.
        store
            .set_agreement("acme/tariff", None, None, Some(1000), None, 0)
            .await
            .unwrap();
        let investment = store
            .invest("acme/tariff", "tenant-a", 1_000, 0, at(10, 1))
            .await
            .unwrap();
        tamper(&store, "UPDATE investments SET paid = -1").await;
        let error = corrupt(store.investments(None, None).await.unwrap_err());
        assert_eq!(
            (error.table, error.key.as_str(), error.column),
            ("investments", investment.id.as_str(), "paid")
        );
        assert!(error.to_string().contains("investments"), "{error}");
        tamper(&store, "UPDATE investments SET paid = 0").await;

        // Repaired, the period closes.
        store
            .close_period(p("2026-10"), "op", false, at(11, 1))
            .await
            .unwrap();
    }
}
