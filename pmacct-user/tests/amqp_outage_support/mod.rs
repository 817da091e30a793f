//! What the AMQP outage tests add to [`crate::outage_support`]: draining the broker's queue.

use lapin::options::BasicGetOptions;
use lapin::{Connection, ConnectionProperties};

pub use crate::outage_support::*;
use crate::rabbitmq_support::Rabbit;

/// Takes every message off `queue` (all publishing is over): totals and count.
pub fn drain(rabbit: &Rabbit, queue: &str) -> (Totals, usize) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let conn = Connection::connect(&rabbit.uri(), ConnectionProperties::default())
            .await
            .expect("connect to the private node");
        let ch = conn.create_channel().await.expect("channel");
        let (mut t, mut n) = (Totals::new(), 0);
        while let Some(m) =
            ch.basic_get(queue.into(), BasicGetOptions { no_ack: true }).await.expect("get")
        {
            add(&mut t, &String::from_utf8_lossy(&m.delivery.data));
            n += 1;
        }
        (t, n)
    })
}
