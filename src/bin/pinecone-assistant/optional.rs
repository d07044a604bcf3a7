//! Builder steps taken only for the flags that were given.

/// Gives every builder `optionally`, so that a chain of optional flags reads
/// as one expression instead of an `if let` per flag.
pub trait Optionally: Sized {
    /// `set(self, value)` when the flag has a value, else `self` unchanged.
    fn optionally<T>(self, value: Option<T>, set: impl FnOnce(Self, T) -> Self) -> Self {
        match value {
            Some(value) => set(self, value),
            None => self,
        }
    }
}

impl<B> Optionally for B {}
