//! Name resolution on the calling thread.
//!
//! ureq resolves the host before every request, even one sent over a pooled
//! connection. Its resolver looks the name up on the calling thread only when no
//! timeout covers the lookup; under any deadline (a resolve timeout, or the total
//! bound of a call, which covers every phase) it starts a thread per request to
//! be able to give up on it. That thread cost a describe round trip on loopback
//! three times its time (44 µs to 143 µs), so lookups here always run on the
//! calling thread, and the system resolver's own timeouts bound them. A total
//! bound still ends the call once the lookup returns.

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;
use ureq::unversioned::transport::time::Duration;

/// ureq's resolver, always in its blocking form.
#[derive(Debug, Default)]
pub(crate) struct BlockingResolver(DefaultResolver);

impl Resolver for BlockingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let unbounded = NextTimeout {
            after: Duration::NotHappening,
            ..timeout
        };
        self.0.resolve(uri, config, unbounded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_under_a_deadline_without_giving_up() {
        let uri: Uri = "http://127.0.0.1:9/x".parse().unwrap();
        let config = Config::default();
        let deadline = NextTimeout {
            after: Duration::Exact(std::time::Duration::from_millis(1)),
            reason: ureq::Timeout::Global,
            per_read: None,
            per_write: None,
        };
        let addrs = BlockingResolver::default()
            .resolve(&uri, &config, deadline)
            .unwrap();
        assert_eq!(addrs[0], "127.0.0.1:9".parse().unwrap());
    }
}
