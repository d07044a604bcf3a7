//! Lazy, token-driven iteration over list endpoints.

use std::collections::{HashSet, VecDeque};
use std::fmt;

use crate::error::{Error, Result};

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// The token of the next page; `None` on the last one.
    pub next: Option<String>,
}

impl<T> Page<T> {
    pub(crate) fn new(items: Vec<T>, next: Option<String>) -> Self {
        Self { items, next }
    }
}

/// Where a walk stopped: start a new paginator at `token` and skip `skip` items to
/// continue exactly after the last item yielded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ResumePoint {
    /// The token of the page holding the next item (`None` = the first page).
    pub token: Option<String>,
    /// Items of that page already yielded.
    pub skip: usize,
}

/// Refuses a page size of 0, which the server would answer with an error page.
pub(crate) fn check_page_size(page_size: Option<u32>) -> Result<()> {
    if page_size == Some(0) {
        return Err(Error::invalid(
            "page_size",
            "must be at least 1; leave it unset for the server's default",
        ));
    }
    Ok(())
}

type Fetch<T> = Box<dyn FnMut(Option<&str>, Option<u32>) -> Result<Page<T>> + Send>;

/// A lazy iterator over every item of a list, fetching pages as it goes.
///
/// Nothing is requested until the first `next()`; the next page is fetched only
/// when the current one is used up; iteration ends after the page without a token,
/// or after [`max_items`](Paginator::max_items) items (without fetching more). An error is
/// yielded once and ends the walk. A server that repeats a token ends the walk
/// with an error instead of looping forever.
///
/// ```no_run
/// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
/// for assistant in client.list_assistants().max_items(20) {
///     println!("{}", assistant?.name);
/// }
/// # Ok::<(), pinecone_assistant::Error>(())
/// ```
#[must_use = "a paginator does nothing until iterated"]
pub struct Paginator<T> {
    fetch: Fetch<T>,
    page_size: Option<u32>,
    max_items: Option<usize>,
    /// Token for the next fetch; `None` with `started` means the last page came.
    next_token: Option<String>,
    /// Token of the page now being consumed.
    current_token: Option<String>,
    consumed_in_page: usize,
    buffer: VecDeque<T>,
    yielded: usize,
    started: bool,
    done: bool,
    seen: HashSet<String>,
    pending_error: Option<Error>,
    /// A page fetch failed: the walk stopped at `next_token`, not at the end.
    failed: bool,
}

impl<T> fmt::Debug for Paginator<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Paginator")
            .field("page_size", &self.page_size)
            .field("max_items", &self.max_items)
            .field("yielded", &self.yielded)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<T> Paginator<T> {
    /// A paginator over `fetch(token, page_size)`.
    pub(crate) fn new(
        fetch: impl FnMut(Option<&str>, Option<u32>) -> Result<Page<T>> + Send + 'static,
    ) -> Self {
        Self {
            fetch: Box::new(fetch),
            page_size: None,
            max_items: None,
            next_token: None,
            current_token: None,
            consumed_in_page: 0,
            buffer: VecDeque::new(),
            yielded: 0,
            started: false,
            done: false,
            seen: HashSet::new(),
            pending_error: None,
            failed: false,
        }
    }

    /// Stops after `n` items, without fetching further pages. Defaults to no
    /// maximum. (The page size is [`page_size`](Self::page_size), which the wire
    /// and the C API call `limit`.)
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// // At most 5 assistants, fetched 5 per page: one request.
    /// let first: Vec<_> = client.list_assistants().page_size(5).max_items(5).collect();
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    pub fn max_items(mut self, n: usize) -> Self {
        self.max_items = Some(n);
        self
    }

    /// The same as [`max_items`](Self::max_items), under its earlier name, which
    /// the wire and the C API use for the page size.
    #[deprecated(note = "renamed to `max_items`; `limit` on the wire is the page size")]
    pub fn limit(self, n: usize) -> Self {
        self.max_items(n)
    }

    /// Asks for `size` items per page (sent as `limit` on every page; at least 1).
    /// Defaults to the server's page size.
    pub fn page_size(mut self, size: u32) -> Self {
        if self.pending_error.is_none() {
            self.pending_error = check_page_size(Some(size)).err();
        }
        self.page_size = Some(size);
        self
    }

    /// Starts at the page of this token instead of the first one. Defaults to the
    /// first page.
    pub fn starting_from(mut self, token: impl Into<String>) -> Self {
        if !self.started {
            self.next_token = Some(token.into());
        }
        self
    }

    /// Where to resume to continue after the last item yielded, exact to the item;
    /// `None` once every item has been yielded. After an error the point names the
    /// page that failed, so a new paginator started there retries it.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// let mut first = client.list_assistants();
    /// let _ = first.next();
    /// if let Some(point) = first.resume_point() {
    ///     let mut rest = client.list_assistants();
    ///     if let Some(token) = point.token {
    ///         rest = rest.starting_from(token);
    ///     }
    ///     for assistant in rest.skip(point.skip) {
    ///         println!("{}", assistant?.name);
    ///     }
    /// }
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    pub fn resume_point(&self) -> Option<ResumePoint> {
        if !self.started || self.failed {
            return Some(ResumePoint {
                token: self.next_token.clone(),
                skip: 0,
            });
        }
        if self.buffer.is_empty() {
            // The page in hand is used up: continue with the next one, if any.
            return self.next_token.clone().map(|token| ResumePoint {
                token: Some(token),
                skip: 0,
            });
        }
        Some(ResumePoint {
            token: self.current_token.clone(),
            skip: self.consumed_in_page,
        })
    }

    /// Iterates over whole pages instead of items. With [`max_items`](Self::max_items),
    /// the page that reaches it is cut and the walk ends there.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// for page in client.list_assistants().page_size(50).pages() {
    ///     let page = page?;
    ///     println!("{} assistants, more: {}", page.items.len(), page.next.is_some());
    /// }
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    pub fn pages(self) -> Pages<T> {
        Pages { inner: self }
    }

    fn fetch_page(&mut self) -> Option<Result<Page<T>>> {
        if let Some(e) = self.pending_error.take() {
            self.done = true;
            return Some(Err(e));
        }
        if self.done || (self.started && self.next_token.is_none()) {
            self.done = true;
            return None;
        }
        if self.max_items.is_some_and(|l| self.yielded >= l) {
            self.done = true;
            return None;
        }
        let token = self.next_token.take();
        if let Some(t) = &token {
            if !self.seen.insert(t.clone()) {
                self.done = true;
                return Some(Err(Error::Decode {
                    what: "list page".into(),
                    message: format!(
                        "the server returned pagination token \"{t}\" twice; stopping instead of looping"
                    ),
                    body: String::new(),
                }));
            }
        }
        self.started = true;
        match (self.fetch)(token.as_deref(), self.page_size) {
            Ok(page) => {
                self.current_token = token;
                self.consumed_in_page = 0;
                self.next_token = page.next.clone().filter(|t| !t.is_empty());
                Some(Ok(page))
            }
            Err(e) => {
                // Keep the failed page's token so the resume point retries it.
                self.next_token = token;
                self.failed = true;
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl<T> Iterator for Paginator<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        loop {
            if self.max_items.is_some_and(|l| self.yielded >= l) {
                self.done = true;
                return None;
            }
            if let Some(item) = self.buffer.pop_front() {
                self.yielded += 1;
                self.consumed_in_page += 1;
                return Some(Ok(item));
            }
            match self.fetch_page()? {
                // An empty page with a token does not end the walk.
                Ok(page) => self.buffer.extend(page.items),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// Whole pages of a [`Paginator`], from [`Paginator::pages`].
#[must_use = "pages do nothing until iterated"]
pub struct Pages<T> {
    inner: Paginator<T>,
}

impl<T> fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages").field("inner", &self.inner).finish()
    }
}

impl<T> Iterator for Pages<T> {
    type Item = Result<Page<T>>;

    fn next(&mut self) -> Option<Result<Page<T>>> {
        let p = &mut self.inner;
        match p.fetch_page()? {
            Ok(mut page) => {
                if let Some(max) = p.max_items {
                    let room = max - p.yielded;
                    if page.items.len() >= room {
                        page.items.truncate(room);
                        page.next = None;
                        p.done = true;
                    }
                }
                p.yielded += page.items.len();
                p.consumed_in_page = page.items.len();
                Some(Ok(page))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    type CallLog = Arc<Mutex<Vec<Option<String>>>>;

    /// Pages of `sizes` items numbered from 0, with tokens "t1", "t2", …
    fn paged(sizes: &'static [usize]) -> (Paginator<usize>, CallLog) {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let log = calls.clone();
        let p = Paginator::new(move |token, _| {
            log.lock().unwrap().push(token.map(str::to_owned));
            let idx: usize = token.map_or(0, |t| t[1..].parse().unwrap());
            let start: usize = sizes[..idx].iter().sum();
            let items = (start..start + sizes[idx]).collect();
            let next = (idx + 1 < sizes.len()).then(|| format!("t{}", idx + 1));
            Ok(Page::new(items, next))
        });
        (p, calls)
    }

    #[test]
    fn lazy_until_iterated() {
        let (p, calls) = paged(&[2, 2]);
        drop(p);
        assert!(calls.lock().unwrap().is_empty());
    }

    #[test]
    fn walks_all_pages_including_empty_ones() {
        let (p, calls) = paged(&[2, 0, 3]);
        let items: Vec<usize> = p.map(Result::unwrap).collect();
        assert_eq!(items, vec![0, 1, 2, 3, 4]);
        assert_eq!(calls.lock().unwrap().len(), 3);
    }

    #[test]
    fn max_items_at_a_page_end_fetches_no_more() {
        let (p, calls) = paged(&[2, 2]);
        let items: Vec<usize> = p.max_items(2).map(Result::unwrap).collect();
        assert_eq!(items, vec![0, 1]);
        assert_eq!(calls.lock().unwrap().len(), 1);
    }

    #[test]
    #[allow(deprecated)]
    fn limit_is_the_earlier_name_of_max_items() {
        let (p, _) = paged(&[3]);
        assert_eq!(p.limit(2).count(), 2);
    }

    #[test]
    fn resume_point_is_exact() {
        let (mut p, _) = paged(&[3, 3]);
        p.next();
        p.next();
        let at = |token: Option<&str>, skip| {
            Some(ResumePoint {
                token: token.map(str::to_owned),
                skip,
            })
        };
        assert_eq!(p.resume_point(), at(None, 2));
        p.next();
        p.next();
        assert_eq!(p.resume_point(), at(Some("t1"), 1));
        p.next();
        p.next();
        assert_eq!(p.resume_point(), None, "every item was yielded");
        let (p2, _) = paged(&[3, 3]);
        let rest: Vec<usize> = p2.starting_from("t1").skip(1).map(Result::unwrap).collect();
        assert_eq!(rest, vec![4, 5]);
    }

    #[test]
    fn resume_point_after_an_error_retries_the_failed_page() {
        let mut calls = 0;
        let mut p: Paginator<u8> = Paginator::new(move |_, _| {
            calls += 1;
            match calls {
                1 => Ok(Page::new(vec![1], Some("t1".into()))),
                _ => Err(Error::invalid("x", "boom")),
            }
        });
        assert!(matches!(p.next(), Some(Ok(1))));
        assert!(matches!(p.next(), Some(Err(_))));
        let after_first_page = ResumePoint {
            token: Some("t1".into()),
            skip: 0,
        };
        assert_eq!(p.resume_point(), Some(after_first_page));

        // A failed first page is not an empty list: resume from the start.
        let mut first: Paginator<u8> = Paginator::new(|_, _| Err(Error::invalid("x", "boom")));
        assert!(matches!(first.next(), Some(Err(_))));
        assert_eq!(first.resume_point(), Some(ResumePoint::default()));
    }

    #[test]
    fn pages_view_cuts_at_max_items() {
        let (p, _) = paged(&[2, 2, 2]);
        let pages: Vec<Page<usize>> = p.max_items(3).pages().map(Result::unwrap).collect();
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[1].items, vec![2]);
        assert_eq!(pages[1].next, None);
    }

    #[test]
    fn repeated_token_is_an_error() {
        let p: Paginator<u8> = Paginator::new(|_, _| Ok(Page::new(vec![1], Some("same".into()))));
        let out: Vec<_> = p.collect();
        assert_eq!(out.len(), 3);
        assert!(matches!(out[2], Err(Error::Decode { .. })));
    }

    #[test]
    fn zero_page_size_fails_without_fetching() {
        let (p, calls) = paged(&[2]);
        let out: Vec<_> = p.page_size(0).collect();
        assert!(matches!(&out[..], [Err(Error::InvalidArgument { .. })]));
        assert!(calls.lock().unwrap().is_empty());
    }
}
