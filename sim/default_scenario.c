/* The built-in default scenario for `courier demo`: scenarios/demo.json, embedded verbatim.
 * GENERATED from scenarios/demo.json; tests/test_sim_scenario.c fails when the two differ.
 * After editing the JSON, regenerate the string's lines with:
 *   sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$/\\n"/' scenarios/demo.json
 */
#include "sim/scenario.h"

const char sim_default_scenario_name[] = "demo";

const char sim_default_scenario_json[] =
    "{\n"
    "  \"name\": \"demo\",\n"
    "  \"description\": \"A day at the courier company: a steady stream of keyed parcels to three "
    "depots, then trouble - a slow road, a leader moved, a depot that burns down and comes back, a "
    "burst of refused deliveries. acks=all with idempotence: every acknowledged parcel "
    "survives.\",\n"
    "  \"cluster\": {\n"
    "    \"brokers\": 3,\n"
    "    \"topics\": [{\"name\": \"parcels\", \"partitions\": 6, \"replication\": 3, "
    "\"min.insync.replicas\": 2}],\n"
    "    \"follower_lag_ms\": 30\n"
    "  },\n"
    "  \"producer\": {\"acks\": \"all\", \"enable.idempotence\": true, \"linger.ms\": 20, "
    "\"batch.size\": 4096, \"request.timeout.ms\": 3000, \"delivery.timeout.ms\": 30000},\n"
    "  \"workload\": {\"duration_ms\": 45000, \"rate\": 150, \"keys\": 40, \"value_size\": "
    "{\"min\": 40, \"max\": 240}, \"seed\": 42},\n"
    "  \"timeline\": [\n"
    "    {\"at_ms\": 8000, \"fault\": \"rtt\", \"broker\": 2, \"ms\": 250},\n"
    "    {\"at_ms\": 14000, \"fault\": \"rtt\", \"broker\": 2, \"ms\": 0},\n"
    "    {\"at_ms\": 16000, \"fault\": \"move_leader\", \"topic\": \"parcels\", \"partition\": 0, "
    "\"broker\": 2},\n"
    "    {\"at_ms\": 22000, \"fault\": \"broker_down\", \"broker\": 3},\n"
    "    {\"at_ms\": 30000, \"fault\": \"broker_up\", \"broker\": 3},\n"
    "    {\"at_ms\": 35000, \"fault\": \"inject_error\", \"api\": \"Produce\", \"code\": "
    "\"NOT_ENOUGH_REPLICAS\", \"count\": 4},\n"
    "    {\"at_ms\": 39000, \"fault\": \"drop_responses\", \"broker\": 1, \"count\": 1}\n"
    "  ],\n"
    "  \"expect\": {\"lost\": 0, \"duplicated\": 0, \"reordered\": 0}\n"
    "}\n";
