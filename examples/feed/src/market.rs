//! The market: a price for every symbol someone is subscribed to, moved a little at each tick
//! (a random walk: there is no exchange behind the example). It knows nothing of WebSockets:
//! the handlers tell it who watches what, and [`crate::publish`] sends what it quotes.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

/// The symbols watched now and their prices.
#[derive(Debug, Default)]
pub struct Market {
    quotes: Mutex<Quotes>,
}

#[derive(Debug, Default)]
struct Quotes {
    by_symbol: BTreeMap<String, Quote>,
    /// The random walk's state (xorshift64).
    state: u64,
}

#[derive(Debug)]
struct Quote {
    price: f64,
    /// How many connections are subscribed: at zero the symbol is no longer quoted.
    watchers: usize,
}

impl Market {
    /// A market that quotes nothing until someone subscribes.
    pub fn new() -> Market {
        Market::default()
    }

    /// One more connection watches each of `symbols`.
    pub fn watch<'a>(&self, symbols: impl IntoIterator<Item = &'a str>) {
        let mut quotes = self.quotes();
        for symbol in symbols {
            quotes
                .by_symbol
                .entry(symbol.to_owned())
                .or_insert_with(|| Quote {
                    price: opening_price(symbol),
                    watchers: 0,
                })
                .watchers += 1;
        }
    }

    /// One connection fewer watches each of `symbols`.
    pub fn unwatch<'a>(&self, symbols: impl IntoIterator<Item = &'a str>) {
        let mut quotes = self.quotes();
        for symbol in symbols {
            if let Some(quote) = quotes.by_symbol.get_mut(symbol) {
                quote.watchers = quote.watchers.saturating_sub(1);
                if quote.watchers == 0 {
                    quotes.by_symbol.remove(symbol);
                }
            }
        }
    }

    /// The symbols quoted now.
    pub fn symbols(&self) -> Vec<String> {
        self.quotes().by_symbol.keys().cloned().collect()
    }

    /// Moves every watched price one step, by at most 0.5% either way, to the cent.
    pub fn tick(&self) -> Vec<(String, f64)> {
        let mut quotes = self.quotes();
        let Quotes { by_symbol, state } = &mut *quotes;
        by_symbol
            .iter_mut()
            .map(|(symbol, quote)| {
                let step = (next_random(state) as f64 / u64::MAX as f64 - 0.5) * 0.01;
                quote.price = ((quote.price * (1.0 + step)) * 100.0).round().max(1.0) / 100.0;
                (symbol.clone(), quote.price)
            })
            .collect()
    }

    fn quotes(&self) -> std::sync::MutexGuard<'_, Quotes> {
        self.quotes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A symbol's first price: between 10 and 500, the same each time the example runs.
fn opening_price(symbol: &str) -> f64 {
    let hash = symbol
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    10.0 + (hash % 49_000) as f64 / 100.0
}

fn next_random(state: &mut u64) -> u64 {
    if *state == 0 {
        *state = 0x9e37_79b9_7f4a_7c15;
    }
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Milliseconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
