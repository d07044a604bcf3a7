use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::open_enum::open_enum;
use super::{list_response, setters};
use crate::http::url::normalize_host;

/// An assistant, as described by the control plane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AssistantModel {
    /// The assistant's name, unique in the project.
    pub name: String,
    /// Its lifecycle state.
    pub status: AssistantStatus,
    /// Instructions applied to every chat.
    #[serde(default)]
    pub instructions: Option<String>,
    /// The caller's metadata.
    #[serde(default)]
    pub metadata: Option<Value>,
    /// The data-plane host, normalised to carry a scheme.
    #[serde(default, deserialize_with = "normalized_host")]
    pub host: Option<String>,
    /// `us` or `eu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// When it was created (RFC 3339 text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// When it was last updated (RFC 3339 text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

fn normalized_host<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let raw: Option<String> = Option::deserialize(d)?;
    Ok(raw.map(|h| normalize_host(&h)).filter(|h| !h.is_empty()))
}

open_enum! {
    /// The lifecycle state of an assistant. Unknown values are kept in `Other`.
    pub enum AssistantStatus {
        /// Being set up; not usable yet.
        Initializing = "Initializing",
        /// Usable.
        Ready = "Ready",
        /// Broken.
        Failed = "Failed",
        /// Setup failed.
        InitializationFailed = "InitializationFailed",
        /// Being deleted.
        Terminating = "Terminating",
        /// Deleted.
        Terminated = "Terminated",
    }
    /// A status this version does not know.
    Other
}

list_response! {
    /// One page of assistants.
    pub struct ListAssistantsResponse { assistants: AssistantModel }
}

open_enum! {
    /// The region an assistant lives in. A region read from configuration
    /// converts with `parse` or `try_from`, which accept the known spellings
    /// exactly and list them otherwise; a region the service adds later can be
    /// named with `Region::Other` until this crate knows it.
    ///
    /// ```
    /// use pinecone_assistant::models::Region;
    /// let region: Region = "eu".parse()?;
    /// assert_eq!(region, Region::Eu);
    /// assert_eq!(Region::try_from("us")?, Region::Us);
    /// let typo = "EU".parse::<Region>().unwrap_err();
    /// assert!(typo.to_string().contains("is not one of us, eu"), "{typo}");
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    pub enum Region {
        /// United States (the default).
        Us = "us",
        /// European Union.
        Eu = "eu",
    }
    /// A region this version does not know, by its wire spelling.
    Other
}

/// A region from user JSON: a known spelling, or an error listing them.
fn known_region<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Region, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(serde::de::Error::custom)
}

impl Default for Region {
    /// [`Region::Us`], the service's default.
    fn default() -> Self {
        Self::Us
    }
}

/// The body of `create_assistant`.
///
/// ```
/// use pinecone_assistant::models::{CreateAssistantRequest, Region};
/// let req = CreateAssistantRequest::new("support-bot")
///     .instructions("Answer from the billing documents only.")
///     .metadata(serde_json::json!({"team": "billing"}))
///     .region(Region::Eu);
/// # let _ = req;
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[must_use]
#[non_exhaustive]
// A misspelt option must fail loudly: a dropped `filter` would widen retrieval.
#[serde(deny_unknown_fields)]
pub struct CreateAssistantRequest {
    /// 1–63 characters: lowercase letters, digits and `-`, starting and ending with a
    /// letter or digit (checked by the server).
    pub name: String,
    /// Sent as `null` when not set.
    #[serde(default)]
    pub instructions: Option<String>,
    /// `us` unless set. Read from JSON strictly (`us` or `eu`): a request comes
    /// from a user, whose typo must fail rather than reach the service; a region
    /// added later can still be set as `Region::Other` from Rust.
    #[serde(default, deserialize_with = "known_region")]
    pub region: Region,
    /// Omitted when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

impl CreateAssistantRequest {
    /// A request for an assistant called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            instructions: None,
            region: Region::Us,
            metadata: None,
        }
    }

    setters! {
        /// Instructions applied to every chat (at most 16 KB). Defaults to none.
        instructions(instructions: impl Into<String>) => instructions = Some(instructions.into());
        /// A JSON object of metadata (at most 16 KB). Defaults to none.
        metadata(metadata: Value) => metadata = Some(metadata);
        /// Where the assistant lives. Defaults to [`Region::Us`].
        region(region: Region) => region = region;
    }
}

/// The body of `update_assistant`: what is set replaces the stored value whole.
///
/// ```
/// use pinecone_assistant::models::UpdateAssistantRequest;
/// let req = UpdateAssistantRequest::new().metadata(serde_json::json!({"team": "ops"}));
/// # let _ = req;
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[must_use]
#[non_exhaustive]
// A misspelt option must fail loudly: a dropped `filter` would widen retrieval.
#[serde(deny_unknown_fields)]
pub struct UpdateAssistantRequest {
    /// New instructions; `""` clears them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// New metadata, replacing (not merging with) the old; `{}` clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

impl UpdateAssistantRequest {
    /// An empty update; set at least one field.
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        /// Replaces the instructions. Defaults to leaving them as they are.
        instructions(instructions: impl Into<String>) => instructions = Some(instructions.into());
        /// Replaces the metadata object whole. Defaults to leaving it as it is.
        metadata(metadata: Value) => metadata = Some(metadata);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use serde_json::json;

    #[test]
    fn decodes_a_list_page_with_nulls() {
        let page: ListAssistantsResponse = serde_json::from_str(r#"{"assistants":[{"name":"support-bot","instructions":"Answer from the billing documents only.","metadata":{"team":"billing"},"status":"Ready","host":"https://prod-1-data.ke.pinecone.io","region":"us","created_at":"2026-07-01T09:00:00Z","updated_at":"2026-07-01T09:00:41Z"},{"name":"eu-docs","instructions":null,"metadata":null,"status":"Initializing","host":"https://prod-eu-data.ke.pinecone.io","region":"eu","created_at":"2026-07-05T12:00:00Z","updated_at":"2026-07-05T12:00:00Z"}],"pagination":{"next":"YXNzdDoy"}}"#).unwrap();
        assert_eq!(page.assistants[0].status, AssistantStatus::Ready);
        assert_eq!(page.assistants[1].instructions, None);
        assert_eq!(page.next_token().as_deref(), Some("YXNzdDoy"));
    }

    #[test]
    fn unknown_fields_and_statuses_are_kept_or_ignored() {
        let a: AssistantModel = serde_json::from_value(json!({
            "name": "x", "status": "Hibernating", "host": "prod-1-data.ke.pinecone.io", "shiny": 1
        }))
        .unwrap();
        assert_eq!(a.status, AssistantStatus::Other("Hibernating".into()));
        assert_eq!(
            a.host.as_deref(),
            Some("https://prod-1-data.ke.pinecone.io")
        );
        assert_eq!(
            serde_json::to_value(&a.status).unwrap(),
            json!("Hibernating")
        );
    }

    #[test]
    fn empty_pagination_means_last_page() {
        for body in [
            r#"{}"#,
            r#"{"pagination":null}"#,
            r#"{"pagination":{}}"#,
            r#"{"pagination":{"next":null}}"#,
            r#"{"pagination":{"next":""}}"#,
        ] {
            let page: ListAssistantsResponse = serde_json::from_str(body).unwrap();
            assert_eq!(page.next_token(), None, "{body}");
        }
    }

    #[test]
    fn create_body_matches_the_wire() {
        let body = serde_json::to_string(&CreateAssistantRequest::new("support-bot")).unwrap();
        assert_eq!(
            body,
            r#"{"name":"support-bot","instructions":null,"region":"us"}"#
        );
        let body = serde_json::to_string(
            &CreateAssistantRequest::new("a")
                .instructions("i")
                .region(Region::Eu)
                .metadata(json!({"k": 1})),
        )
        .unwrap();
        assert_eq!(
            body,
            r#"{"name":"a","instructions":"i","region":"eu","metadata":{"k":1}}"#
        );
    }

    #[test]
    fn regions_from_strings_and_regions_to_come() {
        assert_eq!("us".parse::<Region>().unwrap(), Region::Us);
        assert_eq!(Region::try_from("eu").unwrap(), Region::Eu);
        for typo in ["EU", " eu", "europe", ""] {
            match Region::try_from(typo).unwrap_err() {
                Error::InvalidArgument { name, reason } => {
                    assert_eq!(name, "Region");
                    assert!(reason.ends_with("is not one of us, eu"), "{reason}");
                }
                other => panic!("{other:?}"),
            }
        }
        // A region the service adds later is read and written back unchanged...
        let region: Region = serde_json::from_str(r#""ap""#).unwrap();
        assert_eq!(region, Region::Other("ap".into()));
        let request = CreateAssistantRequest::new("a").region(region);
        let body = serde_json::to_string(&request).unwrap();
        assert!(body.contains(r#""region":"ap""#), "{body}");
        // ...but a request read from JSON (the C API's input) takes known ones only.
        let typo = serde_json::from_str::<CreateAssistantRequest>(r#"{"name":"a","region":"EU"}"#);
        let text = typo.unwrap_err().to_string();
        assert!(text.contains("is not one of us, eu"), "{text}");
        assert_eq!(Region::default(), Region::Us);
    }
}
