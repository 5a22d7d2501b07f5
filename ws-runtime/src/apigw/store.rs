//! What API Gateway does not keep for a WebSocket API and a Lambda function needs between its
//! invocations: which connections are open, with their principal and session, and the groups
//! they joined. [`ConnectionStore`] is the seam; [`DynamoDbStore`] keeps them in one DynamoDB
//! table.

use std::collections::HashMap;
use std::fmt;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::future::BoxFuture;
use serde::Serialize;

use crate::access::security::Principal;
use crate::registry::connections::{ConnectionId, Identity};

/// One open connection, as `$connect` stored it.
#[derive(Debug, Clone)]
pub struct ConnectionRecord {
    /// API Gateway's id of the connection.
    pub id: ConnectionId,
    /// Milliseconds since the Unix epoch.
    pub connected_at: u64,
    /// Who connected.
    pub identity: Identity,
    /// Who the authorizer said connects, on a channel with security.
    pub principal: Option<Principal>,
    /// The session ([`crate::Context::session`]).
    pub session: Option<serde_json::Value>,
    /// The groups the connection joined.
    pub groups: Vec<String>,
}

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No such connection in the store.
    #[error("the connection is not in the store")]
    Gone,
    /// The store's client failed: unreachable, refused, throttled.
    #[error("the connection store failed: {0}")]
    Client(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// An item of the store is not what this module writes.
    #[error("item {key} of the connection store is malformed: {reason}")]
    Malformed {
        /// The item's key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Where a function behind API Gateway keeps its connections between invocations: `$connect`
/// puts, `$disconnect` removes, groups and broadcasts read. Implement it for another database;
/// [`DynamoDbStore`] is the one this crate has.
pub trait ConnectionStore: Send + Sync + 'static {
    /// Stores a connection (replacing one with its id).
    fn put<'a>(&'a self, record: &'a ConnectionRecord) -> BoxFuture<'a, Result<(), StoreError>>;
    /// A connection, or `None`.
    fn get<'a>(
        &'a self,
        id: &'a ConnectionId,
    ) -> BoxFuture<'a, Result<Option<ConnectionRecord>, StoreError>>;
    /// Forgets a connection and its memberships (nothing happens for one not stored).
    fn remove<'a>(&'a self, id: &'a ConnectionId) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Replaces a connection's session; [`StoreError::Gone`] when it is not stored.
    fn set_session<'a>(
        &'a self,
        id: &'a ConnectionId,
        session: Option<&'a serde_json::Value>,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Every stored connection's id.
    fn ids(&self) -> BoxFuture<'_, Result<Vec<ConnectionId>, StoreError>>;
    /// Adds a connection to a group; [`StoreError::Gone`] when it is not stored.
    fn join<'a>(
        &'a self,
        id: &'a ConnectionId,
        group: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Removes a connection from a group (nothing happens if it was not in it).
    fn leave<'a>(
        &'a self,
        id: &'a ConnectionId,
        group: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// The members of a group.
    fn members<'a>(
        &'a self,
        group: &'a str,
    ) -> BoxFuture<'a, Result<Vec<ConnectionId>, StoreError>>;
}

/// Connections in one DynamoDB table with a string partition key `pk` and a string sort key
/// `sk` (what `asyncapi-rs generate --sam` declares): a connection is the item
/// (`connection#{id}`, `connection`), with `connectedAt`, `identity`, `principal`, `session`
/// and `groups`; a membership is the item (`group#{name}`, `{id}`), so a group's members are one
/// query. Set a TTL on the table to drop what a missed `$disconnect` leaves.
#[derive(Clone)]
pub struct DynamoDbStore {
    client: Client,
    table: String,
}

impl fmt::Debug for DynamoDbStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamoDbStore")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

const CONNECTION: &str = "connection";

fn connection_key(id: &ConnectionId) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (
            "pk".to_owned(),
            AttributeValue::S(format!("connection#{id}")),
        ),
        ("sk".to_owned(), AttributeValue::S(CONNECTION.to_owned())),
    ])
}

fn membership_key(id: &ConnectionId, group: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(format!("group#{group}"))),
        ("sk".to_owned(), AttributeValue::S(id.as_str().to_owned())),
    ])
}

fn client_error(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Client(Box::new(error))
}

/// Whether an SDK error is a failed condition (the connection is not stored).
fn condition_failed<E, R>(error: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    error
        .as_service_error()
        .is_some_and(|e| e.code() == Some("ConditionalCheckFailedException"))
}

fn json_attribute(value: &impl Serialize) -> Result<AttributeValue, StoreError> {
    serde_json::to_string(value)
        .map(AttributeValue::S)
        .map_err(client_error)
}

impl DynamoDbStore {
    /// The table `table`, through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> DynamoDbStore {
        DynamoDbStore {
            client,
            table: table.into(),
        }
    }

    fn record(
        id: &str,
        item: &HashMap<String, AttributeValue>,
    ) -> Result<ConnectionRecord, StoreError> {
        let malformed = |reason: &str| StoreError::Malformed {
            key: format!("connection#{id}"),
            reason: reason.to_owned(),
        };
        let text = |name: &str| match item.get(name) {
            Some(AttributeValue::S(text)) => Ok(Some(text.as_str())),
            None => Ok(None),
            Some(_) => Err(malformed(&format!("`{name}` is not a string"))),
        };
        let json = |name: &str| -> Result<Option<serde_json::Value>, StoreError> {
            text(name)?
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| malformed(&format!("`{name}` is not JSON: {e}")))
        };
        let connected_at = match item.get("connectedAt") {
            Some(AttributeValue::N(n)) => n
                .parse()
                .map_err(|_| malformed("`connectedAt` is not a count of milliseconds"))?,
            _ => return Err(malformed("`connectedAt` is missing")),
        };
        let identity = json("identity")?
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| malformed(&format!("`identity`: {e}")))?
            .ok_or_else(|| malformed("`identity` is missing"))?;
        let principal = json("principal")?
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| malformed(&format!("`principal`: {e}")))?;
        let groups = match item.get("groups") {
            Some(AttributeValue::Ss(groups)) => groups.clone(),
            None => Vec::new(),
            Some(_) => return Err(malformed("`groups` is not a string set")),
        };
        Ok(ConnectionRecord {
            id: ConnectionId::from(id),
            connected_at,
            identity,
            principal,
            session: json("session")?,
            groups,
        })
    }

    /// Updates the connection item of `id` with `expression` (`#attribute` naming `attribute`,
    /// `:value` the value when given); `false` when the connection is not stored.
    async fn update_connection(
        &self,
        id: &ConnectionId,
        expression: &str,
        attribute: &str,
        value: Option<AttributeValue>,
    ) -> Result<bool, StoreError> {
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(connection_key(id)))
            .condition_expression("attribute_exists(pk)")
            .update_expression(expression)
            .expression_attribute_names("#attribute", attribute)
            .set_expression_attribute_values(
                value.map(|v| HashMap::from([(":value".to_owned(), v)])),
            )
            .send()
            .await;
        match updated {
            Ok(_) => Ok(true),
            Err(error) if condition_failed(&error) => Ok(false),
            Err(error) => Err(client_error(error)),
        }
    }

    /// Every item, page after page: of a query (its key condition and values), else of a scan
    /// (with its filter, when given).
    async fn all_items(
        &self,
        query: Option<(&str, HashMap<String, AttributeValue>)>,
        filter: Option<(&str, HashMap<String, AttributeValue>)>,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let (page, last) = match (&query, &filter) {
                (Some((condition, values)), _) => {
                    let page = self
                        .client
                        .query()
                        .table_name(&self.table)
                        .key_condition_expression(*condition)
                        .set_expression_attribute_values(Some(values.clone()))
                        .set_exclusive_start_key(start)
                        .send()
                        .await
                        .map_err(client_error)?;
                    let last = page.last_evaluated_key().cloned();
                    (page.items.unwrap_or_default(), last)
                }
                (None, filter) => {
                    let mut scan = self.client.scan().table_name(&self.table);
                    if let Some((expression, values)) = filter {
                        scan = scan
                            .filter_expression(*expression)
                            .set_expression_attribute_values(Some(values.clone()));
                    }
                    let page = scan
                        .set_exclusive_start_key(start)
                        .send()
                        .await
                        .map_err(client_error)?;
                    let last = page.last_evaluated_key().cloned();
                    (page.items.unwrap_or_default(), last)
                }
            };
            items.extend(page);
            match last {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }
}

impl ConnectionStore for DynamoDbStore {
    fn put<'a>(&'a self, record: &'a ConnectionRecord) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut item = connection_key(&record.id);
            item.insert(
                "connectedAt".into(),
                AttributeValue::N(record.connected_at.to_string()),
            );
            item.insert("identity".into(), json_attribute(&record.identity)?);
            if let Some(principal) = &record.principal {
                item.insert("principal".into(), json_attribute(principal)?);
            }
            if let Some(session) = &record.session {
                item.insert("session".into(), json_attribute(session)?);
            }
            if !record.groups.is_empty() {
                item.insert("groups".into(), AttributeValue::Ss(record.groups.clone()));
            }
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .send()
                .await
                .map_err(client_error)?;
            Ok(())
        })
    }

    fn get<'a>(
        &'a self,
        id: &'a ConnectionId,
    ) -> BoxFuture<'a, Result<Option<ConnectionRecord>, StoreError>> {
        Box::pin(async move {
            let item = self
                .client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(connection_key(id)))
                .consistent_read(true)
                .send()
                .await
                .map_err(client_error)?;
            item.item()
                .map(|item| DynamoDbStore::record(id.as_str(), item))
                .transpose()
        })
    }

    fn remove<'a>(&'a self, id: &'a ConnectionId) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let removed = self
                .client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(connection_key(id)))
                .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
                .send()
                .await
                .map_err(client_error)?;
            let groups = match removed.attributes().and_then(|a| a.get("groups")) {
                Some(AttributeValue::Ss(groups)) => groups.clone(),
                _ => Vec::new(),
            };
            for group in groups {
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(membership_key(id, &group)))
                    .send()
                    .await
                    .map_err(client_error)?;
            }
            Ok(())
        })
    }

    fn set_session<'a>(
        &'a self,
        id: &'a ConnectionId,
        session: Option<&'a serde_json::Value>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let stored = match session {
                Some(session) => {
                    let value = json_attribute(session)?;
                    self.update_connection(id, "SET #attribute = :value", "session", Some(value))
                        .await?
                }
                None => {
                    self.update_connection(id, "REMOVE #attribute", "session", None)
                        .await?
                }
            };
            if stored {
                Ok(())
            } else {
                Err(StoreError::Gone)
            }
        })
    }

    fn ids(&self) -> BoxFuture<'_, Result<Vec<ConnectionId>, StoreError>> {
        Box::pin(async move {
            let values = HashMap::from([(
                ":connection".to_owned(),
                AttributeValue::S(CONNECTION.to_owned()),
            )]);
            let items = self
                .all_items(None, Some(("sk = :connection", values)))
                .await?;
            Ok(items
                .iter()
                .filter_map(|item| match item.get("pk") {
                    Some(AttributeValue::S(pk)) => pk.strip_prefix("connection#"),
                    _ => None,
                })
                .map(ConnectionId::from)
                .collect())
        })
    }

    fn join<'a>(
        &'a self,
        id: &'a ConnectionId,
        group: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            // The connection first: a membership of a connection that is gone is not written.
            let group_set = AttributeValue::Ss(vec![group.to_owned()]);
            if !self
                .update_connection(id, "ADD #attribute :value", "groups", Some(group_set))
                .await?
            {
                return Err(StoreError::Gone);
            }
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(membership_key(id, group)))
                .send()
                .await
                .map_err(client_error)?;
            Ok(())
        })
    }

    fn leave<'a>(
        &'a self,
        id: &'a ConnectionId,
        group: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(membership_key(id, group)))
                .send()
                .await
                .map_err(client_error)?;
            // Leaving is done for a connection that is gone.
            let group_set = AttributeValue::Ss(vec![group.to_owned()]);
            self.update_connection(id, "DELETE #attribute :value", "groups", Some(group_set))
                .await?;
            Ok(())
        })
    }

    fn members<'a>(
        &'a self,
        group: &'a str,
    ) -> BoxFuture<'a, Result<Vec<ConnectionId>, StoreError>> {
        Box::pin(async move {
            let values = HashMap::from([(
                ":group".to_owned(),
                AttributeValue::S(format!("group#{group}")),
            )]);
            let items = self.all_items(Some(("pk = :group", values)), None).await?;
            Ok(items
                .iter()
                .filter_map(|item| match item.get("sk") {
                    Some(AttributeValue::S(id)) => Some(ConnectionId::from(id.as_str())),
                    _ => None,
                })
                .collect())
        })
    }
}
