//! Answers every request `{}`: the smallest wasi:http handler, for
//! `wasmtime serve` as the HTTP bench's peer.

use std::io::Write as _;
use wasip2::http::types::{Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam};

wasip2::http::proxy::export!(Peer);

struct Peer;

impl wasip2::exports::http::incoming_handler::Guest for Peer {
    fn handle(_request: IncomingRequest, response_out: ResponseOutparam) {
        let response = OutgoingResponse::new(Fields::new());
        let Ok(body) = response.body() else { return };
        ResponseOutparam::set(response_out, Ok(response));
        if let Ok(mut out) = body.write() {
            let _ = out.write_all(b"{}");
            let _ = out.flush();
        }
        let _ = OutgoingBody::finish(body, None);
    }
}
