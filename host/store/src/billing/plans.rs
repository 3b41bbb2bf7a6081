//! Price plans: each package's plans in order, the one in force in a
//! period, what a plugin declares (for the platform to check a plan
//! against), and the rows of a new plan.

use super::{Cells, Result, package_exists};
use crate::Db;
use crate::Store;
use spleis_billing::close::PlanInForce;
use spleis_billing::discounts::Period;
use spleis_billing::rating::Declared;
use spleis_domain::billing::PlanRecord;
use spleis_domain::billing::terms::plan_id;
use sqlx::AnyConnection;
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
