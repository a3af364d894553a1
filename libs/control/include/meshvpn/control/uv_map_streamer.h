// UvMapStreamer: carries the MapBuilder's output to the connected nodes: a full map when a
// node's stream opens, then after every loop turn the deltas the turn's changes queued (one
// message per node, however many changes), and keepalives on idle streams. Marks nodes online
// and offline as their streams come and go. Updates are taken from the builder only while the
// output queued on all streams is under a bound: a turn that would queue more (a policy change
// or the naive full-map path at 10,000 nodes: 2.6 MB to each, 26 GB in all) sends what fits,
// and the rest, still coalescing, as the connections drain.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/control/map_builder.h"
#include "meshvpn/control/uv_channel_server.h"

namespace meshvpn::control {

struct MapStreamerStats {
  uint64_t streams_opened = 0;
  uint64_t full_maps_sent = 0;
  uint64_t deltas_sent = 0;
  uint64_t keepalives_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t flushes_deferred = 0;  // flushes that stopped at the queued-output bound
};

class UvMapStreamer {
 public:
  // `builder` outlives the streamer. A stream idle for `keepalive` gets a keepalive message.
  // Updates wait while more than `max_queued_output` bytes are queued on the streams' channels.
  static absl::StatusOr<std::unique_ptr<UvMapStreamer>> Create(
      uv_loop_t* loop, MapBuilder* builder, const Clock* clock,
      std::chrono::milliseconds keepalive = std::chrono::seconds(60),
      size_t max_queued_output = size_t{256} << 20);
  ~UvMapStreamer();
  UvMapStreamer(const UvMapStreamer&) = delete;
  UvMapStreamer& operator=(const UvMapStreamer&) = delete;

  // `node_id`'s stream starts on `session` (an older stream of the node is dropped): its full
  // map goes out now and the node is marked online. False if the builder has no such node.
  bool Open(uint64_t node_id, ChannelSession* session);
  // The node's channel closed, or the node was deleted (call it after MapBuilder::RemoveNode):
  // marked offline (last seen now) if it still exists. Nothing is sent to it any more.
  void Closed(uint64_t node_id);
  // Sends what the builder queued (also done after every loop turn on its own), as far as the
  // queued-output bound allows; what is left waits for a later flush.
  void Flush();

  bool streaming(uint64_t node_id) const { return streams_.contains(node_id); }
  // Streams whose update waits for output to drain.
  size_t backlog() const { return backlog_.size(); }
  size_t stream_count() const { return streams_.size(); }
  const MapStreamerStats& stats() const { return stats_; }

 private:
  struct Stream {
    ChannelSession* session;
    MonoTime last_sent;
  };
  UvMapStreamer(MapBuilder* builder, const Clock* clock, std::chrono::milliseconds keepalive,
                size_t max_queued_output);
  void Send(uint64_t node_id, Stream& stream, const std::string& envelope);
  size_t QueuedOutput() const;  // over every stream: O(streams)
  void SendKeepalives();
  static void OnCheck(uv_check_t* handle);
  static void OnTimer(uv_timer_t* handle);

  MapBuilder* builder_;
  const Clock* clock_;
  std::chrono::milliseconds keepalive_;
  size_t max_queued_output_;
  // Bytes queued on the channels at the last count plus what was sent since: an upper bound,
  // counted again (QueuedOutput) only when it passes max_queued_output_.
  size_t queued_estimate_ = 0;
  absl::flat_hash_map<uint64_t, Stream> streams_;
  std::deque<uint64_t> backlog_;  // dirty sessions not yet taken, in order
  absl::flat_hash_set<uint64_t> in_backlog_;
  UvCheck check_;
  UvTimer keepalive_timer_;
  MapStreamerStats stats_;
};

}  // namespace meshvpn::control
