//! How long each file operation stays `Processing`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// How long the emulator takes to process a file operation (an upload, an upsert
/// or a deletion), drawn for each operation on its own; operations run side by
/// side, each finishing after its own delay, as on the real service.
///
/// Random draws are reproducible: they depend only on the emulator's
/// [`seed`](super::EmulatorBuilder::seed), the assistant, the file id and the
/// kind of operation, not on the order in which operations arrive.
///
/// The emulator program takes the same choices as text (see [`FromStr`]):
/// `250` or `fixed:250`, `uniform:100:900`, `size:50:400` (milliseconds).
///
/// ```
/// use std::time::Duration;
/// use pinecone_assistant::emulator::{Emulator, ProcessingDelay};
///
/// // Small files in about 50 ms, plus 400 ms for every MiB.
/// let delays = ProcessingDelay::by_size(Duration::from_millis(50), Duration::from_millis(400));
/// let builder = Emulator::builder().processing_delay(delays);
/// assert_eq!("size:50:400".parse::<ProcessingDelay>(), Ok(delays));
/// # let _ = builder;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProcessingDelay {
    /// The same delay for every operation.
    Fixed(Duration),
    /// A delay drawn uniformly between `min` and `max`, both included.
    Uniform {
        /// The shortest delay.
        min: Duration,
        /// The longest delay.
        max: Duration,
    },
    /// `base`, plus `per_mib` for every MiB of the file (pro rata), so that large
    /// files take longer, as they do on the service.
    BySize {
        /// The delay of an empty file.
        base: Duration,
        /// What each MiB adds.
        per_mib: Duration,
    },
}

impl ProcessingDelay {
    /// The same delay for every operation.
    pub fn fixed(delay: Duration) -> Self {
        Self::Fixed(delay)
    }

    /// A delay drawn uniformly between `min` and `max` (swapped if given the
    /// wrong way round).
    pub fn uniform(min: Duration, max: Duration) -> Self {
        Self::Uniform {
            min: min.min(max),
            max: min.max(max),
        }
    }

    /// `base` plus `per_mib` for every MiB of the file.
    pub fn by_size(base: Duration, per_mib: Duration) -> Self {
        Self::BySize { base, per_mib }
    }

    /// The delay of one operation on a file of `size` bytes; `key` names the
    /// operation (its draw is the same whenever the key and seed are).
    pub(crate) fn sample(&self, seed: u64, key: &str, size: u64) -> Duration {
        match *self {
            Self::Fixed(d) => d,
            Self::Uniform { min, max } => {
                let span = (max - min).as_nanos();
                let r = mix(seed ^ fnv1a(key.as_bytes()));
                // r / 2^64 of the span, the upper end included; spans too long
                // for exact integer arithmetic (centuries) go through f64.
                let offset = match u64::try_from(span) {
                    Ok(span) => (u128::from(r) * (u128::from(span) + 1)) >> 64,
                    Err(_) => (span as f64 * (r as f64 / 2f64.powi(64))) as u128,
                };
                min.saturating_add(nanos(offset)).min(max)
            }
            Self::BySize { base, per_mib } => {
                let extra = per_mib.as_nanos().saturating_mul(u128::from(size)) / (1 << 20);
                base.saturating_add(nanos(extra))
            }
        }
    }
}

fn nanos(n: u128) -> Duration {
    Duration::from_nanos(u64::try_from(n).unwrap_or(u64::MAX))
}

impl Default for ProcessingDelay {
    /// 300 ms for every operation.
    fn default() -> Self {
        Self::Fixed(Duration::from_millis(300))
    }
}

impl From<Duration> for ProcessingDelay {
    fn from(d: Duration) -> Self {
        Self::Fixed(d)
    }
}

impl fmt::Display for ProcessingDelay {
    /// The text form [`FromStr`] reads, in milliseconds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fixed(d) => write!(f, "fixed:{}", d.as_millis()),
            Self::Uniform { min, max } => {
                write!(f, "uniform:{}:{}", min.as_millis(), max.as_millis())
            }
            Self::BySize { base, per_mib } => {
                write!(f, "size:{}:{}", base.as_millis(), per_mib.as_millis())
            }
        }
    }
}

impl FromStr for ProcessingDelay {
    type Err = String;

    /// `MS` or `fixed:MS`, `uniform:MIN_MS:MAX_MS`, or
    /// `size:BASE_MS:MS_PER_MIB`, all whole milliseconds.
    fn from_str(s: &str) -> Result<Self, String> {
        let ms = |v: &str| {
            v.trim()
                .parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|_| {
                    format!("processing delay {s:?}: {v:?} is not a whole number of milliseconds")
                })
        };
        let parts: Vec<&str> = s.split(':').collect();
        match parts.as_slice() {
            [n] => ms(n).map(Self::Fixed),
            ["fixed", n] => ms(n).map(Self::Fixed),
            ["uniform", a, b] => {
                let (min, max) = (ms(a)?, ms(b)?);
                if min > max {
                    return Err(format!(
                        "processing delay {s:?}: the minimum is larger than the maximum"
                    ));
                }
                Ok(Self::Uniform { min, max })
            }
            ["size", base, per] => Ok(Self::BySize {
                base: ms(base)?,
                per_mib: ms(per)?,
            }),
            _ => Err(format!(
                "processing delay {s:?}: use MS, fixed:MS, uniform:MIN_MS:MAX_MS or size:BASE_MS:MS_PER_MIB"
            )),
        }
    }
}

/// FNV-1a: a stable hash of a key (std's hasher may change between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The splitmix64 finaliser: spreads any input over all 64 bits.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn text_forms_round_trip() {
        for (text, delay) in [
            ("250", ProcessingDelay::fixed(MS(250))),
            ("fixed:0", ProcessingDelay::fixed(MS(0))),
            (
                "uniform:100:900",
                ProcessingDelay::uniform(MS(100), MS(900)),
            ),
            ("size:50:400", ProcessingDelay::by_size(MS(50), MS(400))),
        ] {
            let parsed: ProcessingDelay = text.parse().unwrap();
            assert_eq!(parsed, delay, "{text}");
            assert_eq!(parsed.to_string().parse::<ProcessingDelay>(), Ok(delay));
        }
        for bad in [
            "",
            "soon",
            "uniform:9:1",
            "uniform:1",
            "size:1:x",
            "gauss:1:2",
            "-5",
        ] {
            let e = bad.parse::<ProcessingDelay>().unwrap_err();
            assert!(e.starts_with("processing delay"), "{bad}: {e}");
        }
    }

    #[test]
    fn uniform_draws_stay_in_range_and_repeat_per_key() {
        let d = ProcessingDelay::uniform(MS(100), MS(200));
        let draws: Vec<Duration> = (0..500).map(|i| d.sample(7, &format!("f{i}"), 0)).collect();
        assert!(draws.iter().all(|x| (MS(100)..=MS(200)).contains(x)));
        // Spread over the range, not stuck at one end.
        assert!(draws.iter().any(|x| *x < MS(120)) && draws.iter().any(|x| *x > MS(180)));
        assert_eq!(d.sample(7, "f3", 0), draws[3]);
        assert_ne!(d.sample(8, "f3", 0), draws[3]);
        let same = ProcessingDelay::uniform(MS(5), MS(5));
        assert_eq!(same.sample(1, "x", 0), MS(5));
        let forever = ProcessingDelay::uniform(Duration::ZERO, Duration::MAX);
        assert!(forever.sample(1, "x", 0) > Duration::from_secs(1));
    }

    #[test]
    fn size_scaled_delays_grow_with_the_file() {
        let d = ProcessingDelay::by_size(MS(50), MS(400));
        assert_eq!(d.sample(0, "a", 0), MS(50));
        assert_eq!(d.sample(0, "a", 1 << 20), MS(450));
        assert_eq!(d.sample(0, "a", 512 * 1024), MS(250));
        let huge = ProcessingDelay::by_size(Duration::MAX, Duration::MAX);
        assert_eq!(huge.sample(0, "a", u64::MAX), Duration::MAX);
    }
}
