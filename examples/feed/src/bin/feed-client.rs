//! `feed-client URL (--token JWT | --mint SECRET [--trader NAME] [--scope SCOPES]) [--order
//! SYMBOL:SIDE:QUANTITY] [--count N] SYMBOL...`: the generated client in a terminal. It
//! subscribes to the symbols, places the order if asked, and prints what the feed sends, one
//! line each, until `--count` prices came (or forever).

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use feed::api::feed::{FeedClient, FeedOutbound};
use feed::api::types::{PlaceOrder, Side, Subscribe};
use ws_runtime::client::{ClientOptions, Event};

const USAGE: &str = "usage: feed-client URL (--token JWT | --mint SECRET [--trader NAME] [--scope SCOPES]) [--order SYMBOL:SIDE:QUANTITY] [--count N] SYMBOL...
  URL                 the feed (ws://127.0.0.1:8090)
  --token JWT         the bearer token to connect with
  --mint SECRET       sign a token with the feed's HS256 secret instead (for trying the feed locally)
  --trader NAME       the minted token's subject (default: trader)
  --scope SCOPES      the minted token's scopes, space-separated (default: none; `orders:write` to order)
  --order S:SIDE:QTY  place an order, e.g. ACME:buy:100
  --count N           stop after N prices (default: never)
  SYMBOL...           what to subscribe to (capital letters)";

/// On ws-runtime's tokio runtime.
fn main() -> ExitCode {
    ws_runtime::main(run())
}

/// The command line, read.
#[derive(Debug, Default)]
struct Options {
    url: String,
    token: Option<String>,
    mint: Option<String>,
    trader: Option<String>,
    scope: Option<String>,
    order: Option<String>,
    count: Option<usize>,
    symbols: Vec<String>,
}

async fn run() -> ExitCode {
    let options = match options(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match follow(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn follow(options: Options) -> Result<(), String> {
    let token = match (options.token, options.mint) {
        (Some(token), None) => token,
        (None, Some(secret)) => mint(
            &secret,
            options.trader.as_deref().unwrap_or("trader"),
            options.scope.as_deref().unwrap_or(""),
        )?,
        _ => return Err("give --token or --mint, one of them".into()),
    };
    let order = options.order.as_deref().map(order).transpose()?;
    let connect = ClientOptions::default().bearer(&token);
    let mut client = FeedClient::connect_with(&options.url, connect)
        .await
        .map_err(|e| e.to_string())?;
    if !options.symbols.is_empty() {
        let subscribed = client
            .subscribe(Subscribe::new(options.symbols))
            .await
            .map_err(|e| format!("subscribe: {e}"))?;
        println!("subscribed {}", subscribed.symbols.join(" "));
    }
    if let Some(order) = order {
        let accepted = client
            .place_order(order)
            .await
            .map_err(|e| format!("placeOrder: {e}"))?;
        println!(
            "order {} accepted: {} {} {} for {}",
            accepted.order_id,
            side(accepted.side),
            accepted.quantity,
            accepted.symbol,
            accepted.trader
        );
    }
    let mut prices = 0;
    while options.count.is_none_or(|count| prices < count) {
        match client.next().await {
            Some(Event::Message(FeedOutbound::Price(price))) => {
                println!("{} {:.2}", price.symbol, price.price);
                prices += 1;
            }
            Some(Event::Message(FeedOutbound::Heartbeat(_))) => println!("heartbeat"),
            Some(Event::Closed { code, reason }) => {
                return Err(format!("the feed closed the connection: {code} {reason}"));
            }
            Some(other) => eprintln!("{other:?}"),
            None => return Err("the connection is closed".into()),
        }
    }
    client.close().await.map_err(|e| e.to_string())
}

fn side(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

/// `SYMBOL:SIDE:QUANTITY`.
fn order(text: &str) -> Result<PlaceOrder, String> {
    let bad = || format!("--order takes SYMBOL:SIDE:QUANTITY (ACME:buy:100), not `{text}`");
    let mut parts = text.split(':');
    let (Some(symbol), Some(side), Some(quantity), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let side = match side {
        "buy" => Side::Buy,
        "sell" => Side::Sell,
        _ => return Err(bad()),
    };
    let quantity: i64 = quantity.parse().map_err(|_| bad())?;
    Ok(PlaceOrder::new(symbol, side, quantity))
}

/// A token for `trader` with `scope`, valid for an hour, signed HS256 with `secret`.
fn mint(secret: &str, trader: &str, scope: &str) -> Result<String, String> {
    let exp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        + Duration::from_secs(3600);
    let claims = serde_json::json!({"sub": trader, "scope": scope, "exp": exp.as_secs()});
    let key =
        jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()).map_err(|e| e.to_string())?;
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).map_err(|e| e.to_string())
}

/// Reads the command line; `Ok(None)` for `--help`.
fn options(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--token" | "--mint" | "--trader" | "--scope" | "--order" | "--count" => {
                let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
                match arg.as_str() {
                    "--token" => options.token = Some(value),
                    "--mint" => options.mint = Some(value),
                    "--trader" => options.trader = Some(value),
                    "--scope" => options.scope = Some(value),
                    "--order" => options.order = Some(value),
                    _ => {
                        let count = value
                            .parse()
                            .map_err(|_| format!("--count takes a number, not `{value}`"))?;
                        options.count = Some(count);
                    }
                }
            }
            flag if flag.starts_with('-') => return Err(format!("unknown argument `{flag}`")),
            _ if options.url.is_empty() => options.url = arg,
            _ => options.symbols.push(arg),
        }
    }
    if options.url.is_empty() {
        return Err("the feed's URL is missing".into());
    }
    Ok(Some(options))
}
