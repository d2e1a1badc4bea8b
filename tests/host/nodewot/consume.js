// node-wot (Eclipse Thingweb, the W3C reference WoT consumer) against the device app.
//   NODE_PATH=.deps/node-wot/node_modules node tests/host/nodewot/consume.js http://127.0.0.1:8080
// Prints one JSON line per step ({"step": ..., ...}) and exits 0 when every step went as expected;
// tests/host/test_nodewot.py runs it and checks the lines. node-wot PUTs property values with
// `Transfer-Encoding: chunked` (its bodies are Node streams).
const { Servient } = require("@node-wot/core");
const { HttpClientFactory } = require("@node-wot/binding-http");

function report(step, fields) {
    console.log(JSON.stringify(Object.assign({ step }, fields)));
}

async function main(base) {
    const servient = new Servient();
    servient.addClientFactory(new HttpClientFactory(null));
    const WoT = await servient.start();
    const td = await WoT.requestThingDescription(base + "/.well-known/wot");
    report("td", { title: td.title, properties: Object.keys(td.properties).length });
    const thing = await WoT.consume(td);

    const before = await (await thing.readProperty("quality")).value();
    const wanted = before === 17 ? 18 : 17;
    await thing.writeProperty("quality", wanted);
    const after = await (await thing.readProperty("quality")).value();
    report("write", { before, wanted, after });

    let refused = null;
    try {
        await thing.writeProperty("quality", 64);   // the TD says maximum 63
    } catch (err) {
        refused = String(err.message || err);
    }
    const still = await (await thing.readProperty("quality")).value();
    report("out_of_range", { refused, still });

    const capture = await (await thing.invokeAction("capture")).value();
    report("action", { output: capture });
    await servient.shutdown();
}

main(process.argv[2]).then(
    () => process.exit(0),
    (err) => {
        report("error", { message: String((err && err.stack) || err) });
        process.exit(1);
    }
);
