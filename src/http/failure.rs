//! What a failed exchange was, in this crate's terms: each `ureq` error becomes
//! an [`Error`] whose [`TransportErrorKind`] says what failed, and the retry
//! policy learns whether any byte of the request can have reached the server.

use crate::error::{Error, TimeoutPhase, TransportError, TransportErrorKind};

/// Maps a ureq error that happened before or while reading a response.
pub(crate) fn map_transport(e: ureq::Error) -> Error {
    match e {
        ureq::Error::Other(inner) => match inner.downcast::<Error>() {
            Ok(ours) => *ours,
            Err(other) => Error::Transport(TransportError::new(
                TransportErrorKind::Other,
                ureq::Error::Other(other),
            )),
        },
        // An upload source's read error, passed through ureq inside an io::Error.
        ureq::Error::Io(io) if is_ours(&io) => match io.into_inner().map(|i| i.downcast::<Error>())
        {
            Some(Ok(ours)) => *ours,
            Some(Err(other)) => Error::Transport(TransportError::new(
                TransportErrorKind::Io,
                ureq::Error::Io(std::io::Error::other(other)),
            )),
            None => Error::Stream("an upload source failed without a reason".into()),
        },
        ureq::Error::Timeout(t) => Error::Timeout(TransportError::new(
            TransportErrorKind::Timeout(timeout_phase(t)),
            e,
        )),
        // Only a limit set on ureq's own body reader gives this; the transport
        // reads bodies itself and says more (`Transport::read_reply`).
        ureq::Error::BodyExceedsLimit(limit) => Error::BodyTooLarge {
            what: "response body".into(),
            limit,
            seen: limit.saturating_add(1),
            setting: "body_limit".into(),
        },
        ureq::Error::Io(ref io) if io.kind() == std::io::ErrorKind::TimedOut => Error::Timeout(
            TransportError::new(TransportErrorKind::Timeout(TimeoutPhase::Unknown), e),
        ),
        _ => Error::Transport(TransportError::new(transport_kind(&e), e)),
    }
}

/// The phase in which one of ureq's timeouts passed.
fn timeout_phase(t: ureq::Timeout) -> TimeoutPhase {
    use ureq::Timeout::*;
    match t {
        Resolve | Connect => TimeoutPhase::Connect,
        SendRequest | SendBody | Await100 | PerWrite => TimeoutPhase::Send,
        RecvResponse | RecvBody | PerRead => TimeoutPhase::Receive,
        // The whole-call budgets carry the call's total bound.
        Global | PerCall => TimeoutPhase::Total,
        _ => TimeoutPhase::Unknown,
    }
}

/// What a ureq error other than a timeout says failed, in this crate's terms.
fn transport_kind(e: &ureq::Error) -> TransportErrorKind {
    use std::io::ErrorKind as Io;
    match e {
        ureq::Error::HostNotFound => TransportErrorKind::Dns,
        ureq::Error::ConnectionFailed => TransportErrorKind::Connect,
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                Io::ConnectionRefused
                    | Io::HostUnreachable
                    | Io::NetworkUnreachable
                    | Io::NetworkDown
                    | Io::AddrNotAvailable
            ) =>
        {
            TransportErrorKind::Connect
        }
        // rustls reports a failed handshake (an untrusted certificate, say) as an
        // I/O error around its own.
        ureq::Error::Io(io) if io.get_ref().is_some_and(|e| e.is::<rustls::Error>()) => {
            TransportErrorKind::Tls
        }
        ureq::Error::Io(_) => TransportErrorKind::Io,
        ureq::Error::ConnectProxyFailed(_) | ureq::Error::InvalidProxyUrl => {
            TransportErrorKind::Proxy
        }
        ureq::Error::Tls(_)
        | ureq::Error::Rustls(_)
        | ureq::Error::Pem(_)
        | ureq::Error::TlsRequired => TransportErrorKind::Tls,
        ureq::Error::Protocol(_)
        | ureq::Error::Http(_)
        | ureq::Error::BadUri(_)
        | ureq::Error::LargeResponseHeader(..)
        | ureq::Error::Decompress(..)
        | ureq::Error::RedirectFailed
        | ureq::Error::TooManyRedirects => TransportErrorKind::Protocol,
        _ => TransportErrorKind::Other,
    }
}

fn is_ours(io: &std::io::Error) -> bool {
    io.get_ref().is_some_and(|inner| inner.is::<Error>())
}

/// Whether a failure came from our side of the request (an upload source that
/// could not be opened or read) rather than from the network or the server.
pub(super) fn carries_local_error(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Other(inner) => inner.is::<Error>(),
        ureq::Error::Io(io) => is_ours(io),
        _ => false,
    }
}

/// Whether no byte of the request can have reached the server.
pub(super) fn is_connect_phase(e: &ureq::Error) -> bool {
    use ureq::Timeout;
    match e {
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::ConnectProxyFailed(_)
        | ureq::Error::Tls(_)
        | ureq::Error::Rustls(_)
        | ureq::Error::Timeout(Timeout::Resolve | Timeout::Connect) => true,
        ureq::Error::Io(io) => io.kind() == std::io::ErrorKind::ConnectionRefused,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_errors_say_what_failed_and_keep_the_cause() {
        use TransportErrorKind as K;
        use std::io::{Error as IoError, ErrorKind as Io};
        let kind = |e: ureq::Error| match map_transport(e) {
            Error::Transport(t) => t.kind(),
            other => panic!("not a transport error: {other:?}"),
        };
        assert_eq!(kind(ureq::Error::HostNotFound), K::Dns);
        assert_eq!(kind(ureq::Error::ConnectionFailed), K::Connect);
        assert_eq!(
            kind(ureq::Error::Io(IoError::from(Io::ConnectionRefused))),
            K::Connect
        );
        assert_eq!(
            kind(ureq::Error::Io(IoError::from(Io::ConnectionReset))),
            K::Io
        );
        assert_eq!(
            kind(ureq::Error::ConnectProxyFailed("407".into())),
            K::Proxy
        );
        assert_eq!(kind(ureq::Error::Tls("no common cipher")), K::Tls);
        assert_eq!(
            kind(ureq::Error::Io(IoError::new(
                Io::InvalidData,
                rustls::Error::General("untrusted".into())
            ))),
            K::Tls
        );
        assert!(matches!(
            map_transport(ureq::Error::BodyExceedsLimit(10)),
            Error::BodyTooLarge { limit: 10, .. }
        ));
        assert_eq!(kind(ureq::Error::TooManyRedirects), K::Protocol);

        let timeout = |e: ureq::Error| match map_transport(e) {
            Error::Timeout(t) => t.kind(),
            other => panic!("not a timeout: {other:?}"),
        };
        use TimeoutPhase as P;
        for (t, phase) in [
            (ureq::Timeout::Connect, P::Connect),
            (ureq::Timeout::SendBody, P::Send),
            (ureq::Timeout::PerWrite, P::Send),
            (ureq::Timeout::RecvResponse, P::Receive),
            (ureq::Timeout::PerRead, P::Receive),
            (ureq::Timeout::Global, P::Total),
            (ureq::Timeout::PerCall, P::Total),
        ] {
            assert_eq!(timeout(ureq::Error::Timeout(t)), K::Timeout(phase), "{t:?}");
        }
        assert_eq!(
            timeout(ureq::Error::Io(IoError::from(Io::TimedOut))),
            K::Timeout(P::Unknown)
        );

        let err = map_transport(ureq::Error::ConnectionFailed);
        assert!(err.is_retryable());
        assert!(
            err.to_string()
                .starts_with("could not connect to the server ("),
            "{err}"
        );
        let cause = std::error::Error::source(&err).expect("the underlying error");
        assert!(cause.is::<ureq::Error>(), "{cause:?}");
        assert!(err.transport().is_some());
        let err = map_transport(ureq::Error::Timeout(ureq::Timeout::PerRead));
        assert!(err.is_retryable());
        assert!(
            err.to_string()
                .starts_with("timed out waiting for the server's answer"),
            "{err}"
        );
    }

    #[test]
    fn our_own_errors_pass_through_the_transport_unchanged() {
        let wrapped = ureq::Error::Other(Box::new(Error::Cancelled));
        assert!(matches!(map_transport(wrapped), Error::Cancelled));
        let from_source = ureq::Error::Io(std::io::Error::other(Error::invalid("file", "gone")));
        assert!(matches!(
            map_transport(from_source),
            Error::InvalidArgument { ref name, .. } if name == "file"
        ));
    }
}
