//! What a request is, told from its method and path: the operation that made it
//! (`describe_file`) and its route template (`/files/{assistant_name}/{file_id}`),
//! for error messages and observer events.
//!
//! Every path segment this crate fills in is percent-encoded, so a name can hold
//! no `/` and counting segments is exact. Only the request's own path is read,
//! never its query, so neither ids nor filters reach a template.

use super::Method;

/// The operation and route template of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Route {
    /// The name of the method that sends it, e.g. `describe_assistant`.
    pub operation: &'static str,
    /// The path below `/assistant` with placeholders, e.g. `/assistants/{assistant_name}`.
    pub template: &'static str,
}

impl Route {
    /// What a request outside the API's routes is called.
    pub(crate) const OTHER: Route = Route {
        operation: "request",
        template: "(unknown)",
    };
}

/// The route of `method` on `path`, the part of the URL after `/assistant` (a
/// query string, if any, is ignored).
pub(crate) fn classify(method: Method, path: &str) -> Route {
    use Method::*;
    let path = path.split(['?', '#']).next().unwrap_or("");
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let first = segments.next().unwrap_or("");
    let rest: Vec<&str> = segments.collect();
    let route = |operation, template| Route {
        operation,
        template,
    };
    match (first, rest.as_slice(), method) {
        ("assistants", [], Get) => route("list_assistants", "/assistants"),
        ("assistants", [], Post) => route("create_assistant", "/assistants"),
        ("assistants", [_], Get) => route("describe_assistant", "/assistants/{assistant_name}"),
        ("assistants", [_], Patch) => route("update_assistant", "/assistants/{assistant_name}"),
        ("assistants", [_], Delete) => route("delete_assistant", "/assistants/{assistant_name}"),
        ("files", [_], Get) => route("list_files", "/files/{assistant_name}"),
        ("files", [_], Post) => route("upload_file", "/files/{assistant_name}"),
        ("files", [_, _], Get) => route("describe_file", "/files/{assistant_name}/{file_id}"),
        ("files", [_, _], Put) => route("upload_file", "/files/{assistant_name}/{file_id}"),
        ("files", [_, _], Delete) => route("delete_file", "/files/{assistant_name}/{file_id}"),
        ("operations", [_], Get) => route("list_operations", "/operations/{assistant_name}"),
        ("operations", [_, _], Get) => route(
            "describe_operation",
            "/operations/{assistant_name}/{operation_id}",
        ),
        ("chat", [_], Post) => route("chat", "/chat/{assistant_name}"),
        ("chat", [_, "context"], Post) => route("context", "/chat/{assistant_name}/context"),
        ("chat", [_, "chat", "completions"], Post) => route(
            "chat_completions",
            "/chat/{assistant_name}/chat/completions",
        ),
        ("evaluation", ["metrics", "alignment"], Post) => {
            route("evaluate_alignment", "/evaluation/metrics/alignment")
        }
        _ => Route::OTHER,
    }
}

/// `scheme://host[:port]` of `url`, without credentials: what an error may show
/// of where a request went.
pub(crate) fn origin(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after_scheme + i);
    let authority = &url[after_scheme..end];
    // Never show a user name or password written into a host setting.
    let host = authority
        .rfind('@')
        .map_or(authority, |at| &authority[at + 1..]);
    format!("{}{host}", &url[..after_scheme])
}

/// Where the API path (below `/assistant`) starts in `url`, given the base URLs
/// it may start with; for any other URL, after the first `/assistant` following
/// the host.
pub(crate) fn api_path_start(url: &str, bases: &[&str]) -> usize {
    if let Some(base) = bases.iter().find(|b| url.starts_with(**b)) {
        return base.len();
    }
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let path = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    match url[path..].find("/assistant/") {
        Some(i) => path + i + "/assistant".len(),
        None => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Method::*;

    #[test]
    fn every_operation_has_its_route() {
        // Each route template, with the requests (method, path) that must map to it
        // and the operation each is named after.
        let table = [
            (
                "/assistants",
                &[
                    (Get, "/assistants", "list_assistants"),
                    (Get, "/assistants?limit=2", "list_assistants"),
                    (Post, "/assistants", "create_assistant"),
                ][..],
            ),
            (
                "/assistants/{assistant_name}",
                &[
                    (Get, "/assistants/docs", "describe_assistant"),
                    (Patch, "/assistants/docs", "update_assistant"),
                    (Delete, "/assistants/a%2Fb", "delete_assistant"),
                ],
            ),
            (
                "/files/{assistant_name}",
                &[
                    (Get, "/files/docs?filter=%7B%7D", "list_files"),
                    (Post, "/files/docs?multimodal=true", "upload_file"),
                ],
            ),
            (
                "/files/{assistant_name}/{file_id}",
                &[
                    (Get, "/files/docs/f1", "describe_file"),
                    (Put, "/files/docs/f1", "upload_file"),
                    (Delete, "/files/docs/f1", "delete_file"),
                ],
            ),
            (
                "/operations/{assistant_name}",
                &[(Get, "/operations/docs", "list_operations")],
            ),
            (
                "/operations/{assistant_name}/{operation_id}",
                &[(Get, "/operations/docs/op-1", "describe_operation")],
            ),
            (
                "/chat/{assistant_name}",
                &[
                    (Post, "/chat/docs", "chat"),
                    (Post, "/chat/context", "chat"),
                ],
            ),
            (
                "/chat/{assistant_name}/context",
                &[(Post, "/chat/docs/context", "context")],
            ),
            (
                "/chat/{assistant_name}/chat/completions",
                &[(Post, "/chat/chat/chat/completions", "chat_completions")],
            ),
            (
                "/evaluation/metrics/alignment",
                &[(Post, "/evaluation/metrics/alignment", "evaluate_alignment")],
            ),
        ];
        for (template, requests) in table {
            for &(method, path, operation) in requests {
                let route = classify(method, path);
                assert_eq!(route.operation, operation, "{method:?} {path}");
                assert_eq!(route.template, template, "{method:?} {path}");
            }
        }
        assert_eq!(classify(Get, "/nothing/here"), Route::OTHER);
        assert_eq!(classify(Put, "/assistants/docs"), Route::OTHER);
    }

    #[test]
    fn origins_keep_scheme_host_and_port_only() {
        assert_eq!(
            origin("https://api.pinecone.io/assistant/assistants/x?y=1"),
            "https://api.pinecone.io"
        );
        assert_eq!(origin("http://127.0.0.1:9/a"), "http://127.0.0.1:9");
        assert_eq!(origin("http://127.0.0.1:9"), "http://127.0.0.1:9");
        assert_eq!(
            origin("https://user:pw@gw.example/pc"),
            "https://gw.example"
        );
    }

    #[test]
    fn the_api_path_follows_the_base() {
        let url = "https://gw.example/assistant/x/assistant/assistants/docs";
        let base = "https://gw.example/assistant/x/assistant";
        assert_eq!(&url[api_path_start(url, &[base])..], "/assistants/docs");
        let data = "https://prod-1-data.ke.pinecone.io/assistant/files/assistant";
        assert_eq!(&data[api_path_start(data, &[base])..], "/files/assistant");
        assert_eq!(api_path_start("http://h", &[]), "http://h".len());
    }
}
