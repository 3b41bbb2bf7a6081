//! The usage report: a period's usage aggregated as the close aggregates
//! it, scoped to the caller.

use crate::{Actor, Error, Platform};
use spleis_billing::discounts::Period;
use spleis_domain::accounts::Role;
use spleis_domain::billing::UsageReport;
use spleis_domain::registry::RegistryError;
use spleis_store::now_ms;
use std::collections::BTreeMap;

impl Platform {
    /// Usage by tenant, plugin, operation and metric in `period` (default:
    /// the open one): a tenant's own, an author's plugins' (those in
    /// namespaces it owns), or the operator's choice of `tenant` or all.
    pub async fn usage_report(
        &self,
        actor: &Actor,
        period: Option<Period>,
        tenant: Option<&str>,
    ) -> Result<UsageReport, Error> {
        let period = match period {
            Some(period) => period,
            None => self.store.billing_settings().await?.open_period(now_ms()),
        };
        // The report counts the calls still queued, as the close would.
        self.usage.flush().await;
        let mut report = self.store.usage_report(period).await?;
        match actor.role() {
            Role::Operator => {
                if let Some(tenant) = tenant {
                    retain_tenant(&mut report, tenant);
                }
            }
            Role::Tenant => retain_tenant(&mut report, actor.id()),
            Role::Author => {
                let owned = self.owned_namespaces(actor, &report).await?;
                let mine = |plugin: &str| {
                    owned
                        .get(spleis_domain::registry::namespace_of(plugin))
                        .copied()
                        .unwrap_or(false)
                };
                report.calls.retain(|r| mine(&r.plugin));
                report.metrics.retain(|r| mine(&r.plugin));
            }
        }
        Ok(report)
    }

    /// For each namespace of a plugin in `report`: whether `actor` owns it.
    async fn owned_namespaces(
        &self,
        actor: &Actor,
        report: &UsageReport,
    ) -> Result<BTreeMap<String, bool>, Error> {
        let mut owned = BTreeMap::new();
        let plugins = report.calls.iter().map(|r| &r.plugin);
        for plugin in plugins.chain(report.metrics.iter().map(|r| &r.plugin)) {
            let namespace = spleis_domain::registry::namespace_of(plugin);
            if owned.contains_key(namespace) {
                continue;
            }
            let owns = match self.store.owners(namespace).await {
                Ok(owners) => owners.iter().any(|owner| owner == actor.id()),
                // A namespace without owners is nobody's.
                Err(RegistryError::UnknownNamespace(_)) => false,
                Err(e) => return Err(e.into()),
            };
            owned.insert(namespace.to_owned(), owns);
        }
        Ok(owned)
    }
}

/// Keeps only `tenant`'s rows.
fn retain_tenant(report: &mut UsageReport, tenant: &str) {
    report.calls.retain(|r| r.tenant == tenant);
    report.metrics.retain(|r| r.tenant == tenant);
}
