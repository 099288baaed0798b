//! A Kite account on loopback, as the Kite tests set one up: a scratch directory, the
//! loopback broker ([`kite_broker`](super::kite_broker)) with its certificate written
//! there, the access token file (mode 0600, as the gateway demands), and the engine's
//! `[order]` configuration for them; plus what the tests read back from the broker.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use tickpipe::order::{GatewayKind, OrderConfig};

use super::{
    kite_broker::{Broker, API_KEY, TOKEN},
    Scratch,
};

/// A scratch directory, a broker and a token file.
pub struct KiteAccount {
    /// Removed when the test passes (see [`Scratch`]); holds `ca.pem` and `token`.
    pub dir: Scratch,
    pub broker: Broker,
    /// The access token file, holding the token the broker expects.
    pub token: PathBuf,
}

impl KiteAccount {
    /// The scratch directory `tickpipe-PREFIX-PID-NAME`, a broker whose certificate is
    /// written in it, and the broker's token in its file `token`.
    pub fn open(prefix: &str, name: &str) -> KiteAccount {
        let dir = Scratch::new(prefix, name);
        let broker = Broker::start(&dir);
        let token = dir.secret("token", TOKEN);
        KiteAccount { dir, broker, token }
    }
}

/// `[order]` for the Kite gateway against `broker`, reading `token`: quick polls and
/// retries, orders tagged `ALGO42`.
pub fn order_config(broker: &Broker, token: &Path) -> OrderConfig {
    let mut config = OrderConfig {
        gateway: GatewayKind::Kite,
        algo_id: "ALGO42".to_owned(),
        ..OrderConfig::default()
    };
    config.kite.base_url = broker.url();
    config.kite.api_key = API_KEY.to_owned();
    config.kite.access_token_file = Some(token.to_owned());
    config.kite.ca_file = Some(broker.ca.clone());
    config.kite.poll_interval_ms = 10;
    config.kite.retry_initial_ms = 5;
    config.kite.retry_max_ms = 20;
    config
}

/// Writes `live.toml` in `dir`: `extra`, then `[order.kite]` for `broker` and `token`
/// (quick polls, a reconciliation every second). `extra` must not open `[order.kite]`.
pub fn config_file(dir: &Path, broker: &Broker, token: &Path, extra: &str) -> PathBuf {
    let path = dir.join("live.toml");
    std::fs::write(
        &path,
        format!(
            "{extra}\n[order.kite]\nbase_url = \"{}\"\napi_key = \"{API_KEY}\"\naccess_token_file = \"{}\"\nca_file = \"{}\"\npoll_interval_ms = 10\nreconcile_secs = 1\n",
            broker.url(),
            token.display(),
            broker.ca.display()
        ),
    )
    .unwrap();
    path
}

/// Each `tradingsymbol`'s net filled units at the broker (its own order book); flat
/// symbols are left out.
pub fn broker_nets(broker: &Broker) -> BTreeMap<String, i64> {
    let mut nets = BTreeMap::new();
    broker.with(|b| {
        for o in &b.orders {
            let filled = o["filled_quantity"].as_i64().unwrap();
            let signed = if o["transaction_type"] == "SELL" {
                -filled
            } else {
                filled
            };
            *nets
                .entry(o["tradingsymbol"].as_str().unwrap().to_owned())
                .or_insert(0) += signed;
        }
    });
    nets.retain(|_, net| *net != 0);
    nets
}

/// Requests of `method` to `path` the broker received.
pub fn count(broker: &Broker, method: &str, path: &str) -> usize {
    broker
        .seen()
        .iter()
        .filter(|r| r.method == method && r.path == path)
        .count()
}
