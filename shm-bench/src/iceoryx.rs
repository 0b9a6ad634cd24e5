//! iceoryx2's publish-subscribe (the `iceoryx2` crate 0.10, zero-copy loan
//! API, `ipc::Service`) measured the way section Q measures `ShmQueue`:
//! round trips between two processes (spinning on `receive`, or blocking on
//! an event listener) and throughput 1 -> 1 and 2 -> 2 processes. Built only
//! with `--features iceoryx2`.
//!
//! The service settings are those of iceoryx2's own publish-subscribe
//! benchmark for the round trips (history 0, a subscriber buffer of 1, safe
//! overflow, one publisher and one subscriber per direction, the next sample
//! loaned while the peer answers); for throughput, a subscriber buffer of
//! 1024 (the queue's capacity) without overflow, the publisher retrying
//! until delivered, so that no item is lost. Each process makes its own
//! node after the fork: nothing of iceoryx2 crosses a fork.

use crate::sys::{join, ns_since, repeat, spawn, spin_until, Res};
use iceoryx2::node::Node;
use iceoryx2::port::listener::Listener;
use iceoryx2::port::notifier::Notifier;
use iceoryx2::port::publisher::Publisher;
use iceoryx2::port::subscriber::Subscriber;
use iceoryx2::port::update_connections::UpdateConnections;
use iceoryx2::prelude::*;
use iceoryx2::service::port_factory::{event, publish_subscribe};
use shm_runtime::Shared;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a process waits for its peers to set up.
const SETUP: Duration = Duration::from_secs(20);

/// Service names unique to this run and call.
fn names(what: &str) -> String {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    format!(
        "shm-bench/{}/{what}/{}",
        std::process::id(),
        CALLS.fetch_add(1, Ordering::Relaxed)
    )
}

/// Waits until `gate` holds at least `n`, for at most [`SETUP`].
fn wait_for(gate: &AtomicU64, n: u64, what: &str) -> Res<()> {
    let start = Instant::now();
    while gate.load(Ordering::Acquire) < n {
        if start.elapsed() > SETUP {
            return Err(format!("iceoryx2: {what} not ready within {SETUP:?}").into());
        }
        std::thread::yield_now();
    }
    Ok(())
}

fn node() -> Res<Node<ipc::Service>> {
    set_log_level(LogLevel::Error);
    Ok(NodeBuilder::new().create::<ipc::Service>()?)
}

/// One direction's publish-subscribe service of payload `$p`, with
/// iceoryx2's round-trip benchmark settings (a macro: the builder's methods
/// differ between sized payloads and slices).
macro_rules! round_trip_service {
    ($node:expr, $name:expr, $p:ty) => {
        Ok($node
            .service_builder(&ServiceName::new($name)?)
            .publish_subscribe::<$p>()
            .max_publishers(1)
            .max_subscribers(1)
            .history_size(0)
            .subscriber_max_buffer_size(1)
            .enable_safe_overflow(true)
            .open_or_create()?)
    };
}

fn event_service(node: &Node<ipc::Service>, name: &str) -> Res<event::PortFactory<ipc::Service>> {
    Ok(node
        .service_builder(&ServiceName::new(name)?)
        .event()
        .open_or_create()?)
}

/// A message type of the round trips: `u64` (typed loan) or a 4 KiB
/// slice (slice loan), written and read as section Q's rows do.
trait Message {
    /// The payload type of the service.
    type P: core::fmt::Debug + IceoryxSend + ?Sized + 'static;
    /// One direction's service.
    fn service(
        node: &Node<ipc::Service>,
        name: &str,
    ) -> Res<publish_subscribe::PortFactory<ipc::Service, Self::P, ()>>;
    /// A publisher for it.
    fn publisher(
        s: &publish_subscribe::PortFactory<ipc::Service, Self::P, ()>,
    ) -> Res<Publisher<ipc::Service, Self::P, ()>>;
    /// Loans a sample, fills it with round `i`'s message (`answer`: the
    /// child's reply to `value`) and sends it.
    fn send(p: &Publisher<ipc::Service, Self::P, ()>, value: u64) -> Res<()>;
    /// Receives a message, if one came, and reads it: the value it carries.
    fn try_receive(s: &Subscriber<ipc::Service, Self::P, ()>) -> Res<Option<u64>>;
    /// What the child sends back for a message whose read value is `value`.
    fn answer(value: u64) -> u64;
    /// What the parent expects back for round `i`.
    fn expected(i: u64) -> u64;
    /// What the parent sends in round `i`.
    fn message(i: u64) -> u64;
}

/// `u64` items, written with `loan_uninit` + `write_payload`.
struct Word;

impl Message for Word {
    type P = u64;
    fn service(
        node: &Node<ipc::Service>,
        name: &str,
    ) -> Res<publish_subscribe::PortFactory<ipc::Service, u64, ()>> {
        round_trip_service!(node, name, u64)
    }
    fn publisher(
        s: &publish_subscribe::PortFactory<ipc::Service, u64, ()>,
    ) -> Res<Publisher<ipc::Service, u64, ()>> {
        Ok(s.publisher_builder().create()?)
    }
    fn send(p: &Publisher<ipc::Service, u64, ()>, value: u64) -> Res<()> {
        p.loan_uninit()?.write_payload(value).send()?;
        Ok(())
    }
    fn try_receive(s: &Subscriber<ipc::Service, u64, ()>) -> Res<Option<u64>> {
        Ok(s.receive()?.map(|sample| *sample.payload()))
    }
    fn answer(value: u64) -> u64 {
        value
    }
    fn expected(i: u64) -> u64 {
        i
    }
    fn message(i: u64) -> u64 {
        i
    }
}

/// 4 KiB messages as section Q's page rows: the parent fills the page with
/// a byte, the child sums what it read and answers with a zeroed page
/// whose first 8 bytes carry the sum, which the parent sums again.
struct Page;

const PAGE: usize = 4096;

impl Message for Page {
    type P = [u8];
    fn service(
        node: &Node<ipc::Service>,
        name: &str,
    ) -> Res<publish_subscribe::PortFactory<ipc::Service, [u8], ()>> {
        round_trip_service!(node, name, [u8])
    }
    fn publisher(
        s: &publish_subscribe::PortFactory<ipc::Service, [u8], ()>,
    ) -> Res<Publisher<ipc::Service, [u8], ()>> {
        Ok(s.publisher_builder().initial_max_slice_len(PAGE).create()?)
    }
    fn send(p: &Publisher<ipc::Service, [u8], ()>, value: u64) -> Res<()> {
        let sample = p.loan_slice_uninit(PAGE)?;
        let sample = if value < 256 {
            // A page of one byte value (the parent's message).
            sample.write_from_fn(|_| value as u8)
        } else {
            // The child's answer: zeros, the sum in the first 8 bytes.
            let bytes = (value - 256).to_le_bytes();
            sample.write_from_fn(|k| if k < 8 { bytes[k] } else { 0 })
        };
        sample.send()?;
        Ok(())
    }
    fn try_receive(s: &Subscriber<ipc::Service, [u8], ()>) -> Res<Option<u64>> {
        Ok(s.receive()?
            .map(|sample| sample.payload().iter().map(|&b| u64::from(b)).sum()))
    }
    fn answer(value: u64) -> u64 {
        value + 256
    }
    fn expected(i: u64) -> u64 {
        let sum = u64::from(Self::message(i) as u8) * PAGE as u64;
        sum.to_le_bytes().iter().map(|&x| u64::from(x)).sum()
    }
    fn message(i: u64) -> u64 {
        i % 251
    }
}

/// A publish-subscribe service of payload `P`.
type PubSub<P> = publish_subscribe::PortFactory<ipc::Service, P, ()>;
/// An event service.
type Events = event::PortFactory<ipc::Service>;

/// One side of a round trip: a publisher one way, a subscriber the other,
/// and (blocking) a notifier and a listener.
struct Side<M: Message> {
    publisher: Publisher<ipc::Service, M::P, ()>,
    subscriber: Subscriber<ipc::Service, M::P, ()>,
    notifier: Option<Notifier<ipc::Service>>,
    listener: Option<Listener<ipc::Service>>,
    // The services, kept open while the ports live.
    _send: PubSub<M::P>,
    _recv: PubSub<M::P>,
    _events: Option<(Events, Events)>,
    // Dropped last.
    _node: Node<ipc::Service>,
}

impl<M: Message> Side<M> {
    /// Opens (or creates) the services named `base`, publishing on `out`
    /// and subscribing to the other one.
    fn new(base: &str, out: &str, inn: &str, block: bool) -> Res<Side<M>> {
        let node = node()?;
        let send = M::service(&node, &format!("{base}/{out}"))?;
        let recv = M::service(&node, &format!("{base}/{inn}"))?;
        let events = if block {
            Some((
                event_service(&node, &format!("{base}/{out}-event"))?,
                event_service(&node, &format!("{base}/{inn}-event"))?,
            ))
        } else {
            None
        };
        let (notifier, listener) = match &events {
            Some((out, inn)) => (
                Some(out.notifier_builder().create()?),
                Some(inn.listener_builder().create()?),
            ),
            None => (None, None),
        };
        Ok(Side {
            publisher: M::publisher(&send)?,
            subscriber: recv.subscriber_builder().create()?,
            notifier,
            listener,
            _send: send,
            _recv: recv,
            _events: events,
            _node: node,
        })
    }

    /// Connects the ports to the peer's (which exist by now): a publisher
    /// delivers nothing to a subscriber that has not connected yet.
    fn connect(&self) -> Res<()> {
        self.publisher.update_connections()?;
        self.subscriber.update_connections()?;
        Ok(())
    }

    fn send(&self, value: u64) -> Res<()> {
        M::send(&self.publisher, value)?;
        if let Some(notifier) = &self.notifier {
            notifier.notify()?;
        }
        Ok(())
    }

    /// Waits for the next message and reads it: spinning on `receive` as
    /// section Q's spinning rows spin on `try_pop`, or blocking on the
    /// listener between looks.
    fn receive(&self) -> Res<u64> {
        match &self.listener {
            None => {
                let mut got = Ok(None);
                spin_until(|| {
                    got = M::try_receive(&self.subscriber);
                    !matches!(got, Ok(None))
                });
                Ok(got?.expect("received"))
            }
            Some(listener) => loop {
                if let Some(value) = M::try_receive(&self.subscriber)? {
                    return Ok(value);
                }
                listener.blocking_wait(|_| {})?;
            },
        }
    }
}

/// A gate in shared memory: setup steps counted by the processes.
fn gate() -> Res<Shared<AtomicU64>> {
    Ok(Shared::anonymous(AtomicU64::new(0))?)
}

/// Round trips of `M` messages between this process and a forked child:
/// ns per round trip, `n` per repetition after one warm-up repetition.
fn rounds<M: Message>(n: usize, reps: usize, block: bool) -> Res<Vec<f64>> {
    let base = names("rt");
    let gate = gate()?;
    let total = ((reps + 1) * n) as u64;
    let mut child = {
        let base = base.clone();
        let gate = &*gate;
        spawn(move || {
            let side = Side::<M>::new(&base, "up", "down", block).expect("iceoryx2 child setup");
            gate.fetch_add(1, Ordering::AcqRel);
            wait_for(gate, 2, "the parent").expect("parent ready");
            side.connect().expect("connect");
            gate.fetch_add(1, Ordering::AcqRel);
            for _ in 0..total {
                let v = side.receive().expect("receive");
                side.send(M::answer(v)).expect("send");
            }
        })?
    };
    let result = (|| {
        wait_for(&gate, 1, "the child")?;
        let side = Side::<M>::new(&base, "down", "up", block)?;
        side.connect()?;
        gate.fetch_add(1, Ordering::AcqRel);
        wait_for(&gate, 3, "the child's connection")?;
        let mut i = 0u64;
        repeat(reps, || {
            let start = Instant::now();
            for _ in 0..n {
                i += 1;
                side.send(M::message(i))?;
                if side.receive()? != M::expected(i) {
                    return Err("iceoryx2 returned another message".into());
                }
            }
            Ok(ns_since(start) / n as f64)
        })
    })();
    if result.is_err() {
        // The error says what failed; the child is only ended.
        let _ = child.kill();
        return result;
    }
    join(child)?;
    result
}

/// Round trip of `u64` messages.
pub fn word_rounds(n: usize, reps: usize, block: bool) -> Res<Vec<f64>> {
    rounds::<Word>(n, reps, block)
}

/// Round trip of 4 KiB messages, written and read in place.
pub fn page_rounds(n: usize, reps: usize, block: bool) -> Res<Vec<f64>> {
    rounds::<Page>(n, reps, block)
}

/// Throughput: `producers` publisher processes and as many subscriber
/// processes on one service, `items` u64 items published in all per
/// repetition. Publish-subscribe delivers every item to every subscriber
/// (there is no work sharing between subscribers), so with 2 -> 2 each
/// item is received twice. ns per item published, from the instant every
/// process is set up to the last item received by the last subscriber.
pub fn throughput(items: u64, reps: usize, producers: u64) -> Res<Vec<f64>> {
    let per = items / producers;
    let received = per * producers;
    repeat(reps, || {
        let name = names("tp");
        // Setup steps done: subscribers made, publishers made (and
        // connected), subscribers connected.
        let gate = gate()?;
        let start_flag = gate_pair()?;
        let mut children = Vec::new();
        let spawned = (|| -> Res<()> {
            for c in 0..producers {
                let (name, gate, flags) = (name.clone(), &*gate, &*start_flag);
                // One subscriber at a time opens the service: the first
                // creates it.
                wait_for(gate, c, "a subscriber")?;
                children.push(spawn(move || {
                    let node = node().expect("node");
                    let service = tp_service(&node, &name, producers).expect("service");
                    let sub = service.subscriber_builder().create().expect("subscriber");
                    gate.fetch_add(1, Ordering::AcqRel);
                    // Connected to every publisher before any sends: items
                    // sent to an unconnected subscriber may be dropped.
                    wait_for(gate, 2 * producers, "the publishers").expect("publishers");
                    sub.update_connections().expect("connect");
                    gate.fetch_add(1, Ordering::AcqRel);
                    let mut got = 0;
                    while got < received {
                        spin_until(|| match sub.receive().expect("receive") {
                            Some(sample) => {
                                std::hint::black_box(*sample.payload());
                                true
                            }
                            None => false,
                        });
                        got += 1;
                        if got % 1024 == 0 {
                            flags.received.fetch_add(1024, Ordering::Relaxed);
                        }
                    }
                    flags.done.fetch_add(1, Ordering::AcqRel);
                })?);
            }
            wait_for(&gate, producers, "the subscribers")?;
            for p in 0..producers {
                let (name, gate, flags) = (name.clone(), &*gate, &*start_flag);
                children.push(spawn(move || {
                    let node = node().expect("node");
                    let service = tp_service(&node, &name, producers).expect("service");
                    let publisher = service
                        .publisher_builder()
                        .backpressure_strategy(BackpressureStrategy::RetryUntilDelivered)
                        .create()
                        .expect("publisher");
                    publisher.update_connections().expect("connect");
                    gate.fetch_add(1, Ordering::AcqRel);
                    wait_for(&flags.start, 1, "the start").expect("start");
                    for i in 0..per {
                        let sample = publisher.loan_uninit().expect("loan");
                        sample.write_payload(p * per + i + 1).send().expect("send");
                    }
                })?);
            }
            Ok(())
        })();
        let timed = spawned.and_then(|()| {
            wait_for(&gate, 3 * producers, "the connections")?;
            let start = Instant::now();
            start_flag.start.store(1, Ordering::Release);
            while start_flag.done.load(Ordering::Acquire) < producers {
                if start.elapsed() > Duration::from_secs(30) {
                    return Err(format!(
                        "iceoryx2 throughput: the subscribers did not finish ({} of {} \
                         items received)",
                        start_flag.received.load(Ordering::Relaxed),
                        received * producers
                    )
                    .into());
                }
                std::thread::yield_now();
            }
            Ok(ns_since(start) / (per * producers) as f64)
        });
        if timed.is_err() {
            // The error says what failed; the children are only ended.
            for mut child in children {
                let _ = child.kill();
            }
            return timed;
        }
        for child in children {
            join(child)?;
        }
        timed
    })
}

/// The start and done words of a throughput repetition.
#[derive(shm_runtime::SharedSafe)]
#[repr(C)]
struct Flags {
    start: AtomicU64,
    done: AtomicU64,
    /// Items received by all subscribers, counted by 1024.
    received: AtomicU64,
}

fn gate_pair() -> Res<Shared<Flags>> {
    Ok(Shared::anonymous(Flags {
        start: AtomicU64::new(0),
        done: AtomicU64::new(0),
        received: AtomicU64::new(0),
    })?)
}

fn tp_service(
    node: &Node<ipc::Service>,
    name: &str,
    producers: u64,
) -> Res<publish_subscribe::PortFactory<ipc::Service, u64, ()>> {
    Ok(node
        .service_builder(&ServiceName::new(name)?)
        .publish_subscribe::<u64>()
        .max_publishers(producers as usize)
        .max_subscribers(producers as usize)
        .history_size(0)
        .subscriber_max_buffer_size(1024)
        .enable_safe_overflow(false)
        .open_or_create()?)
}
