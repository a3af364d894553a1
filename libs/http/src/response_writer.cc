// ResponseWriter: a handle that forwards to its connection while the exchange is live.
#include "meshvpn/http/response_writer.h"

#include "exchange.h"
#include "meshvpn/http/server_connection.h"

namespace meshvpn::http {

ResponseWriter::ResponseWriter(std::shared_ptr<detail::Exchange> exchange)
    : exchange_(std::move(exchange)) {}

ResponseWriter::~ResponseWriter() {
  if (open()) exchange_->connection->WriterDropped(exchange_.get());
}

ResponseWriter::ResponseWriter(ResponseWriter&& other) noexcept
    : exchange_(std::move(other.exchange_)) {}

ResponseWriter& ResponseWriter::operator=(ResponseWriter&& other) noexcept {
  if (this != &other) {
    if (open()) exchange_->connection->WriterDropped(exchange_.get());
    exchange_ = std::move(other.exchange_);
  }
  return *this;
}

bool ResponseWriter::open() const {
  return exchange_ != nullptr && exchange_->connection != nullptr &&
         exchange_->phase != detail::Exchange::Phase::kDone;
}

bool ResponseWriter::Send(Response response) {
  return open() && exchange_->connection->WriterSend(exchange_.get(), std::move(response));
}

bool ResponseWriter::StartStream(int status, Headers headers) {
  return open() && exchange_->connection->WriterStart(exchange_.get(), status, std::move(headers));
}

bool ResponseWriter::Write(std::string_view data) {
  return open() && exchange_->connection->WriterWrite(exchange_.get(), data);
}

bool ResponseWriter::End(const Headers& trailers) {
  return open() && exchange_->connection->WriterEnd(exchange_.get(), trailers);
}

UpgradedStream ResponseWriter::AcceptUpgrade(Headers headers, StreamHandler* handler,
                                             std::string* buffered) {
  if (!open()) return UpgradedStream();
  return exchange_->connection->WriterUpgrade(exchange_.get(), std::move(headers), handler,
                                              buffered);
}

size_t ResponseWriter::buffered_output() const {
  return open() ? exchange_->connection->buffered_output() : 0;
}

void ResponseWriter::set_observer(StreamObserver* observer) {
  if (exchange_ != nullptr) exchange_->observer = observer;
}

}  // namespace meshvpn::http
