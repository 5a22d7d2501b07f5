//! The template's DynamoDB tables, created in a local DynamoDB (`--dynamodb URL`: DynamoDB
//! Local, dynalite) when they are missing, with the keys the template declares: what `sam
//! deploy` would create, so that the functions find their tables on a desk too.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use serde_json::Value;

use super::template::{Resolver, Template, TemplateError, Why};

/// Why a table could not be created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    /// The table's declaration cannot be read.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The DynamoDB at the endpoint refused, or could not be reached.
    #[error("table {table} at {endpoint}: {source}")]
    Create {
        /// The table's name.
        table: String,
        /// The DynamoDB's endpoint.
        endpoint: String,
        /// Its answer.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// One table as the template declares it: its name, its attributes and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Table {
    name: String,
    /// (attribute, `S`/`N`/`B`)
    attributes: Vec<(String, String)>,
    /// (attribute, `HASH`/`RANGE`)
    key: Vec<(String, String)>,
}

fn refused(at: String, why: Why) -> TemplateError {
    TemplateError::Refused { at, why }
}

/// The `(name, value)` pairs of a list of objects (`AttributeDefinitions`, `KeySchema`).
fn pairs(
    id: &str,
    list: Option<Value>,
    property: &'static str,
    (name, value): (&str, &str),
) -> Result<Vec<(String, String)>, TemplateError> {
    let Some(Value::Array(items)) = list else {
        return Err(refused(format!("{id}.{property}"), Why::Missing(property)));
    };
    items
        .iter()
        .map(|item| {
            let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_owned);
            text(name)
                .zip(text(value))
                .ok_or_else(|| refused(format!("{id}.{property}"), Why::NotAString(property)))
        })
        .collect()
}

/// Every table of the template: `AWS::DynamoDB::Table`, and `AWS::Serverless::SimpleTable` (a
/// string `id` unless its `PrimaryKey` says otherwise).
fn tables(template: &Template, resolver: &Resolver<'_>) -> Result<Vec<Table>, TemplateError> {
    let mut tables = Vec::new();
    for (id, resource) in template.of_type("AWS::DynamoDB::Table") {
        let properties = &resource["Properties"];
        let attributes = resolver.property(id, properties, "AttributeDefinitions")?;
        let key = resolver.property(id, properties, "KeySchema")?;
        tables.push(Table {
            name: resolver
                .physical_id(id)
                .map_err(|why| refused(id.to_owned(), why))?,
            attributes: pairs(
                id,
                attributes,
                "AttributeDefinitions",
                ("AttributeName", "AttributeType"),
            )?,
            key: pairs(id, key, "KeySchema", ("AttributeName", "KeyType"))?,
        });
    }
    for (id, resource) in template.of_type("AWS::Serverless::SimpleTable") {
        let properties = &resource["Properties"];
        let primary = resolver.property(id, properties, "PrimaryKey")?;
        let text = |key: &str, default: &str| {
            primary
                .as_ref()
                .and_then(|p| p.get(key))
                .and_then(Value::as_str)
                .unwrap_or(default)
                .to_owned()
        };
        // SimpleTable's types are spelled out (`String`, `Number`, `Binary`).
        let kind = match text("Type", "String").as_str() {
            "Number" => "N",
            "Binary" => "B",
            _ => "S",
        };
        let name = text("Name", "id");
        tables.push(Table {
            name: resolver
                .physical_id(id)
                .map_err(|why| refused(id.to_owned(), why))?,
            attributes: vec![(name.clone(), kind.to_owned())],
            key: vec![(name, "HASH".to_owned())],
        });
    }
    Ok(tables)
}

/// Creates each table of `template` that the DynamoDB at `endpoint` lacks (on demand capacity);
/// answers the names of those it created.
///
/// # Errors
/// A table's declaration cannot be read, or the DynamoDB refuses one.
pub async fn create(
    template: &Template,
    resolver: &Resolver<'_>,
    endpoint: &str,
) -> Result<Vec<String>, TableError> {
    let config = aws_sdk_dynamodb::Config::builder()
        .region(aws_sdk_dynamodb::config::Region::new(
            resolver.region.clone(),
        ))
        .credentials_provider(aws_credential_types::Credentials::new(
            "local", "local", None, None, "local",
        ))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let mut created = Vec::new();
    for table in tables(template, resolver)? {
        let failed = |source: Box<dyn std::error::Error + Send + Sync>| TableError::Create {
            table: table.name.clone(),
            endpoint: endpoint.to_owned(),
            source,
        };
        let mut request = client
            .create_table()
            .table_name(&table.name)
            .billing_mode(BillingMode::PayPerRequest);
        for (name, kind) in &table.attributes {
            let definition = AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::from(kind.as_str()))
                .build()
                .map_err(|e| failed(Box::new(e)))?;
            request = request.attribute_definitions(definition);
        }
        for (name, kind) in &table.key {
            let element = KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(KeyType::from(kind.as_str()))
                .build()
                .map_err(|e| failed(Box::new(e)))?;
            request = request.key_schema(element);
        }
        match request.send().await {
            Ok(_) => created.push(table.name.clone()),
            // There already: kept as it is.
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) => {}
            Err(error) => return Err(failed(Box::new(error))),
        }
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_read_with_their_keys_and_names() {
        let dir = std::env::temp_dir().join(format!("local-tables-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let path = dir.join("template.yaml");
        std::fs::write(
            &path,
            "Parameters:\n  Name:\n    Type: String\n    Default: chat-connections\nResources:\n  Connections:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: !Ref Name\n      AttributeDefinitions:\n        - AttributeName: pk\n          AttributeType: S\n        - AttributeName: sk\n          AttributeType: S\n      KeySchema:\n        - AttributeName: pk\n          KeyType: HASH\n        - AttributeName: sk\n          KeyType: RANGE\n  Simple:\n    Type: AWS::Serverless::SimpleTable\n    Properties:\n      PrimaryKey:\n        Name: n\n        Type: Number\n",
        )
        .unwrap_or_default();
        let template = Template::read(&path);
        let _ = std::fs::remove_dir_all(&dir);
        let Ok(template) = template else {
            panic!("the template reads: {template:?}");
        };
        let parameters = template.parameter_values(&[]).unwrap_or_default();
        let resolver = Resolver::new(&template, parameters, "eu-west-1", "ws://x");
        let found = tables(&template, &resolver).map_err(|e| e.to_string());
        assert_eq!(
            found,
            Ok(vec![
                Table {
                    name: "chat-connections".into(),
                    attributes: vec![("pk".into(), "S".into()), ("sk".into(), "S".into())],
                    key: vec![("pk".into(), "HASH".into()), ("sk".into(), "RANGE".into())],
                },
                Table {
                    name: "Simple".into(),
                    attributes: vec![("n".into(), "N".into())],
                    key: vec![("n".into(), "HASH".into())],
                },
            ])
        );
    }
}
