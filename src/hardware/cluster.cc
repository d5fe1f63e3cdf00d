// MakeCluster: a chip in the nodes of a system (or an assumed node).
#include "suanli/hardware/cluster.h"

#include "suanli/catalog/market.h"

#include <algorithm>
#include <utility>

namespace suanli {

namespace {
// A bare chip's assumed node: up to this many chips on its scale-up link.
constexpr int kAssumedNode = 8;
}  // namespace

double Topology::ScaleOutShare(double chips) const {
  if (chips <= scale_up_domain) return 1.0;
  // The most oversubscribed tier the traffic crosses: every tier up to the
  // first that spans it.
  double worst = 1;
  for (const Tier& t : tiers) {
    worst = std::max(worst, t.oversubscription);
    if (t.span_chips <= 0 || chips <= t.span_chips) break;
  }
  return 1.0 / worst;
}

Result<Cluster> MakeCluster(const Catalog& catalog, const Chip& chip, const System* system) {
  auto device = MakeDevice(catalog, chip);
  if (!device) return std::move(device).error();
  Cluster c;
  c.device = std::move(*device);
  Topology& t = c.topology;
  auto positive = [](std::optional<double> v) { return v && *v > 0 ? v : std::nullopt; };
  // The scale-up domain: the system's, else its server, else (a bare chip) the
  // chip's own domain up to an assumed 8-chip node.
  double up_bandwidth = positive(chip.Get("scale_up.bandwidth")).value_or(0);
  double out_bandwidth = positive(chip.Get("scale_out.bandwidth")).value_or(0);
  // Prices are market records (catalog/prices/): the latest purchase price, in dollars.
  auto latest_usd = [&](std::string_view subject) -> std::optional<double> {
    const MarketRecord* p = LatestPurchasePrice(catalog, subject, "", "");
    return p != nullptr ? positive(PriceInUsd(catalog, *p)) : std::nullopt;
  };
  // Chip prices are per package: a die device costs its share.
  double price = latest_usd(chip.id).value_or(0) / (chip.rank == DeviceRank::kDie ? chip.Dies() : 1);
  const auto chip_domain = positive(chip.Get("scale_up.domain"));
  int domain = int(chip_domain.value_or(kAssumedNode));
  if (system == nullptr) {
    c.assumed_system = true;
    t.domain_assumed = !chip_domain || domain > kAssumedNode;
    domain = std::min(domain, kAssumedNode);
    c.chips_per_node = domain;
  } else {
    c.system_id = system->id;
    const auto per_node = positive(system->Get("chips_per_node"));
    c.chips_per_node = int(per_node.value_or(kAssumedNode));
    if (auto v = positive(system->Get("scale_up.domain"))) {
      domain = int(*v);
    } else if (per_node) {
      domain = c.chips_per_node;
    }
    if (auto v = positive(system->Get("scale_up.bandwidth"))) up_bandwidth = *v;
    if (auto v = positive(system->Get("scale_up.mesh_links"))) t.scale_up_mesh_links = int(*v);
    if (auto v = positive(system->Get("scale_out.bandwidth"))) out_bandwidth = *v;
    if (auto v = latest_usd(system->id)) price = *v / c.chips_per_node;
    c.node_power = Watts(positive(system->Get("node_power")).value_or(0));
    for (const NetworkTier& tier : system->network) {
      const double span_nodes = FigureValue(tier.figures, "span").value_or(0);
      t.tiers.push_back(Topology::Tier{
          .span_chips = span_nodes * c.chips_per_node,
          .oversubscription = std::max(1.0, FigureValue(tier.figures, "oversubscription").value_or(1))});
    }
  }
  // No scale-up link: every collective goes over the network.
  t.scale_up_domain = up_bandwidth > 0 ? std::max(1, domain) : 1;
  t.scale_up_bandwidth = BytesPerSecond(up_bandwidth);
  t.scale_out_assumed = out_bandwidth <= 0;
  t.scale_out_bandwidth = BytesPerSecond(out_bandwidth > 0 ? out_bandwidth : kDefaultScaleOut);
  c.price_per_chip = Usd(price);
  c.host_dispatch = c.device.host_op_overhead;
  c.host_link = BytesPerSecond(chip.Get("host_link").value_or(0));
  if (system != nullptr) {
    if (auto v = system->Get("host.op_dispatch")) c.host_dispatch = Seconds(*v);
    if (auto v = system->Get("host.link")) c.host_link = BytesPerSecond(*v);
    if (auto v = system->Get("host.memory_bandwidth")) c.host_memory = BytesPerSecond(*v);
  }
  return c;
}

}  // namespace suanli
