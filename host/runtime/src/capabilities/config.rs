//! `config`: the install's settings, read-only.

use super::CallCapabilities;
use crate::bindings::HostError;
use crate::bindings::latest::spleis::plugin::config;
use spleis_registry::Capability;

impl config::Host for CallCapabilities {
    fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<String>, HostError>> {
        Ok(self
            .granted(Capability::Config)
            .map(|()| self.install.config.get(&key).cloned()))
    }

    fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, HostError>> {
        Ok(self.granted(Capability::Config).map(|()| {
            self.install
                .config
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }))
    }
}
