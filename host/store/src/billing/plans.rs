//! Price plans: each package's plans in order, the one in force in a
//! period, and setting a new one (checked by [`spleis_billing::rating`]
//! against the plugin's declared metrics and operations).

use super::close::first_unclosed;
use super::{Cells, Result, package_exists, to_json};
use crate::Db;
use crate::Store;
use spleis_billing::bounds::period_in;
use spleis_billing::close::PlanInForce;
use spleis_billing::discounts::Period;
use spleis_billing::rating::{Declared, PricePlan, check_currency, check_declared, validate_plan};
use spleis_domain::billing::PlanRecord;
use spleis_domain::billing::terms::plan_id;
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

/// What the published versions of `package` declare, together.
pub(crate) async fn declared(conn: &mut AnyConnection, package: &str) -> Result<Declared> {
    let mut declared = Declared::default();
    for row in sqlx::query("SELECT package, version, manifest FROM versions WHERE package = $1")
        .bind(package)
        .fetch_all(&mut *conn)
        .await
        .db()?
    {
        let manifest: spleis_registry::Manifest =
            Cells::new(&row, "versions", &["package", "version"]).json("manifest")?;
        declared.metrics.extend(manifest.metrics.into_keys());
        declared.operations.extend(manifest.operations);
    }
    Ok(declared)
}

/// The plan in force in `period` per package: the latest effective by then.
pub(crate) async fn plans_in_force(
    conn: &mut AnyConnection,
    period: Period,
) -> Result<BTreeMap<String, PlanInForce>> {
    let mut plans = BTreeMap::new();
    for row in sqlx::query(
        "SELECT package, seq, plan FROM price_plans WHERE effective_from <= $1 ORDER BY package, effective_from, seq",
    )
    .bind(period.to_string())
    .fetch_all(&mut *conn)
    .await.db()?
    {
        let cells = Cells::new(&row, "price_plans", &["package", "seq"]);
        let package: String = cells.get("package")?;
        let plan = PlanInForce {
            id: plan_id(&package, cells.get("seq")?),
            plan: cells.json("plan")?,
        };
        // Later rows are later plans: the last one per package wins.
        plans.insert(package, plan);
    }
    Ok(plans)
}

impl Store {
    /// Sets a new plan for `package`. A plugin's first plan applies from the
    /// open period; a change applies from the period after it, so a month
    /// already under way keeps the prices its tenants saw.
    pub async fn set_plan(
        &self,
        package: &str,
        plan: &PricePlan,
        by: &str,
        now: i64,
    ) -> Result<PlanRecord> {
        self.insert_plan(package, plan, by, now, None).await
    }

    /// The operator's correction: `plan` in force from `from`, a period not
    /// closed yet (before any close, none before the platform's first
    /// month), up to the open one. This is how a close that a plan
    /// cannot rate is resolved: the period gets a plan that rates, and
    /// closes again. A closed period never changes.
    pub async fn correct_plan(
        &self,
        package: &str,
        plan: &PricePlan,
        by: &str,
        now: i64,
        from: Period,
    ) -> Result<PlanRecord> {
        self.insert_plan(package, plan, by, now, Some(from)).await
    }

    async fn insert_plan(
        &self,
        package: &str,
        plan: &PricePlan,
        by: &str,
        now: i64,
        from: Option<Period>,
    ) -> Result<PlanRecord> {
        validate_plan(plan)?;
        let mut tx = self.begin_write().await.db()?;
        let settings = self.lock_periods_exclusive(&mut tx).await?;
        package_exists(&mut tx, package).await?;
        check_declared(plan, package, &declared(&mut tx, package).await?)?;
        check_currency(plan, settings.currency)?;
        let last: Option<i64> =
            sqlx::query("SELECT MAX(seq) AS seq FROM price_plans WHERE package = $1")
                .bind(package)
                .fetch_one(&mut *tx)
                .await
                .db()?
                .try_get("seq")
                .db()?;
        let open = settings.open_period(now);
        let effective_from = match from {
            Some(from) => {
                let first = first_unclosed(&mut tx, &settings, now).await?;
                period_in("from", from, first, open)?
            }
            None if last.is_some() => open.next(),
            None => open,
        };
        let seq = last.map_or(Some(1), |last| last.checked_add(1));
        let seq = seq.ok_or(super::BillingError::Overflow("the plan number"))?;
        sqlx::query(
            "INSERT INTO price_plans (package, seq, effective_from, plan, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(package)
        .bind(seq)
        .bind(effective_from.to_string())
        .bind(to_json("the plan", plan)?)
        .bind(by)
        .bind(now)
        .execute(&mut *tx)
        .await.db()?;
        tx.commit().await.db()?;
        Ok(PlanRecord {
            package: package.to_owned(),
            seq,
            effective_from,
            plan: plan.clone(),
            created_by: by.to_owned(),
        })
    }

    /// A package's plans, oldest first.
    pub async fn plans(&self, package: &str) -> Result<Vec<PlanRecord>> {
        let mut conn = self.pool().acquire().await.db()?;
        package_exists(&mut conn, package).await?;
        let rows = sqlx::query(
            "SELECT package, seq, effective_from, plan, created_by FROM price_plans WHERE package = $1 ORDER BY seq",
        )
        .bind(package)
        .fetch_all(&mut *conn)
        .await.db()?;
        rows.iter()
            .map(|row| {
                let cells = Cells::new(row, "price_plans", &["package", "seq"]);
                Ok(PlanRecord {
                    package: package.to_owned(),
                    seq: cells.get("seq")?,
                    effective_from: cells.parse("effective_from")?,
                    plan: cells.json("plan")?,
                    created_by: cells.get("created_by")?,
                })
            })
            .collect()
    }
}
