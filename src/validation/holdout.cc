// Which catalog figures a group of measured cases informed: publications read
// from free-text sources (case `source:` lines, catalog source titles and
// locators) and matched (docs/validation.md, "Held out by group").
#include "validation/holdout.h"

#include <algorithm>
#include <cctype>
#include <regex>

namespace suanli {
namespace {

std::string Lowered(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

// A path as compared: lower case, no leading "./" or "/", no trailing
// punctuation; a bare README is README.md.
std::string CleanPath(std::string p) {
  p = Lowered(std::move(p));
  while (!p.empty() && (p.back() == '.' || p.back() == '/' || p.back() == ')' || p.back() == ',')) p.pop_back();
  while (p.starts_with("./") || p.starts_with("/")) p.erase(0, p.starts_with("./") ? 2 : 1);
  if (const auto hash = p.find_first_of("#?"); hash != std::string::npos) p.erase(hash);
  if (p == "readme") p = "readme.md";
  return p;
}

// Blanks a matched span so later patterns do not read it again.
void Blank(std::string& text, std::size_t at, std::size_t n) {
  for (std::size_t i = at; i < at + n && i < text.size(); ++i) text[i] = ' ';
}

// A match that starts a token (not inside a path or word).
bool StartsToken(const std::string& text, std::size_t at) {
  if (at == 0) return true;
  const unsigned char c = static_cast<unsigned char>(text[at - 1]);
  return !std::isalnum(c) && c != '/' && c != '.' && c != '-' && c != '_';
}

// Document extensions a repository path may end in.
constexpr const char* kExt = R"((?:md|txt|csv|py|png|html|htm|yaml|yml|json|pdf|cu|cc|cpp|h|rst|ipynb))";

}  // namespace

std::vector<DocumentRef> DocumentsIn(std::string_view input) {
  // Source lines are a few hundred characters; the matcher's depth grows with a
  // match's length, so a text past this is read only this far (docs/input-limits.md).
  input = input.substr(0, kMaxSourceText);
  std::vector<DocumentRef> out;
  auto add = [&](DocumentRef r) {
    for (const auto& o : out) {
      if (o.venue == r.venue && o.document == r.document) return;
    }
    out.push_back(std::move(r));
  };
  std::string text(input);
  auto each = [&](const std::regex& re, auto&& take) {
    std::vector<std::pair<std::size_t, std::size_t>> spans;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) {
      const std::smatch& m = *it;
      const auto at = std::size_t(m.position(0));
      if (!StartsToken(text, at)) continue;
      if (take(m)) spans.emplace_back(at, std::size_t(m.length(0)));
    }
    for (auto [at, n] : spans) Blank(text, at, n);
  };
  const auto icase = std::regex::ECMAScript | std::regex::icase;
  // arXiv papers: "arXiv 2505.21411v2", "arXiv:2507.03114", "arxiv.org/html/2504.14960v2".
  static const std::regex arxiv(R"((?:https?://)?(?:www\.)?arxiv(?:\.org/(?:abs|html|pdf)/|[: ]\s*)(\d{4}\.\d{4,5})(?:v\d+)?)",
                                icase);
  each(arxiv, [&](const std::smatch& m) {
    const std::string id = "arxiv:" + m[1].str();
    add(DocumentRef{.venue = id, .document = id, .text = m[0].str()});
    return true;
  });
  // GitHub URLs: github.com/owner/repo[/blob|tree|raw/REF/path], raw.githubusercontent.com/owner/repo/REF/path.
  static const std::regex github(
      R"((?:https?://)?(?:www\.)?github\.com/([\w.-]+)/([\w.-]+)(?:/(?:blob|tree|raw)/[\w.-]+/([\w./%-]+))?)", icase);
  each(github, [&](const std::smatch& m) {
    std::string repo = Lowered(m[1].str() + "/" + m[2].str());
    if (repo.ends_with(".git")) repo.resize(repo.size() - 4);
    const std::string venue = "github:" + repo;
    const std::string path = m[3].matched ? CleanPath(m[3].str()) : "";
    add(DocumentRef{.venue = venue, .document = path.empty() ? "" : venue + "/" + path, .text = m[0].str()});
    return true;
  });
  static const std::regex raw(R"((?:https?://)?raw\.githubusercontent\.com/([\w.-]+)/([\w.-]+)/[\w.-]+/([\w./%-]+))", icase);
  each(raw, [&](const std::smatch& m) {
    const std::string venue = "github:" + Lowered(m[1].str() + "/" + m[2].str());
    add(DocumentRef{.venue = venue, .document = venue + "/" + CleanPath(m[3].str()), .text = m[0].str()});
    return true;
  });
  // "owner/repo:path.md", "owner/repo, path.md", "owner/repo path.md", "owner/repo @ SHA: path.md", "owner/repo README".
  static const std::regex repo_path(std::string(R"(([A-Za-z0-9][\w.-]*)/([\w.-]+)(?:\s*@\s*[0-9a-fA-F]{7,40})?(?::\s*|,\s*|\s+)([\w.-]+(?:/[\w.-]+)*\.)") +
                                        kExt + R"()(?![\w/]))",
                                    icase);
  each(repo_path, [&](const std::smatch& m) {
    const std::string venue = "github:" + Lowered(m[1].str() + "/" + m[2].str());
    add(DocumentRef{.venue = venue, .document = venue + "/" + CleanPath(m[3].str()), .text = m[0].str()});
    return true;
  });
  static const std::regex repo_readme(R"(([A-Za-z0-9][\w.-]*)/([\w.-]+)\s+(?:readme)\b)", icase);
  each(repo_readme, [&](const std::smatch& m) {
    const std::string venue = "github:" + Lowered(m[1].str() + "/" + m[2].str());
    add(DocumentRef{.venue = venue, .document = venue + "/readme.md", .text = m[0].str()});
    return true;
  });
  // "owner/repo issue", "owner/repo docs": the repository alone.
  static const std::regex repo_only(R"(([A-Za-z0-9][\w.-]*)/([A-Za-z][\w.-]*)\s+(?:issues?|docs|documentation|repository|repo)\b)",
                                    icase);
  each(repo_only, [&](const std::smatch& m) {
    add(DocumentRef{.venue = "github:" + Lowered(m[1].str() + "/" + m[2].str()), .document = "", .text = m[0].str()});
    return true;
  });
  // Other URLs: host[/path]. The venue is the host (the site).
  static const std::regex url(
      R"((?:https?://)?((?:[a-z0-9-]+\.)+(?:com|org|ai|io|cn|net|dev|app|nz|edu|gov|co|info|me|xyz))((?:/[^\s)'",;\]]*)?))", icase);
  each(url, [&](const std::smatch& m) {
    std::string host = Lowered(m[1].str());
    if (host.starts_with("www.")) host.erase(0, 4);
    const std::string path = CleanPath(m[2].str());
    add(DocumentRef{.venue = "url:" + host,
                    .document = path.empty() ? "" : "url:" + host + "/" + path, .text = m[0].str()});
    return true;
  });
  // Bare repository paths of two or more parts: "docs/platforms/ascend_npu_best_practice.md".
  static const std::regex bare(std::string(R"([\w.-]+(?:/[\w.-]+)+\.)") + kExt + R"((?![\w/]))", icase);
  each(bare, [&](const std::smatch& m) {
    add(DocumentRef{.venue = "", .document = CleanPath(m[0].str()), .text = m[0].str()});
    return true;
  });
  return out;
}

bool SameSource(const DocumentRef& a, const DocumentRef& b, HoldoutMatch match, std::string& why) {
  if (!a.document.empty() && !b.document.empty()) {
    if (!a.venue.empty() && !b.venue.empty()) {
      if (a.document == b.document) {
        why = "same document " + a.document;
        return true;
      }
      // One repository path abbreviating the other's folders ("ND_A100_v4_results.md" for
      // "Azure_Results/ND_A100_v4_results.md"): the same file when one ends the other.
      if (a.venue == b.venue && a.venue.starts_with("github:")) {
        const std::string pa = a.document.substr(std::min(a.document.size(), a.venue.size() + 1));
        const std::string pb = b.document.substr(std::min(b.document.size(), b.venue.size() + 1));
        const std::string& shorter = pa.size() < pb.size() ? pa : pb;
        const std::string& longer = pa.size() < pb.size() ? pb : pa;
        const bool generic = shorter == "readme.md" || shorter == "index.md";
        if (!shorter.empty() && !generic && longer.ends_with("/" + shorter)) {
          why = "same document " + a.venue + "/" + longer + " (written " + shorter + ")";
          return true;
        }
      }
    } else {
      // A bare path names the same file as a repository path that ends in it.
      auto path_of = [](const DocumentRef& r) {
        return r.venue.empty() ? r.document : r.document.substr(std::min(r.document.size(), r.venue.size() + 1));
      };
      const std::string pa = path_of(a), pb = path_of(b);
      const bool generic = pa.ends_with("readme.md") || pa.ends_with("index.md") || pa.find('/') == std::string::npos;
      if (pa == pb && !generic) {
        why = "same document " + pa + " (path)";
        return true;
      }
    }
  }
  if (match == HoldoutMatch::kRepository && !a.venue.empty() && a.venue == b.venue) {
    why = "same repository, site or paper " + a.venue;
    return true;
  }
  return false;
}

std::string InformedBy(const Catalog& catalog, const Figure& figure, const GroupSources& group, HoldoutMatch match,
                       SourceDocs& cache) {
  for (const std::string& g : figure.checked_against) {
    if (g == group.group) return "the figure says checked_against: " + g;
  }
  for (const std::string& id : figure.sources) {
    const Source* s = catalog.FindSource(id);
    if (s == nullptr) continue;
    const std::string said = s->title + " " + s->locator;
    const std::string low = Lowered(said);
    for (const std::string& c : group.case_ids) {
      if (c.size() >= 6 && low.find(Lowered(c)) != std::string::npos) return "source " + id + " names case " + c;
    }
    auto it = cache.find(id);
    if (it == cache.end()) it = cache.emplace(id, DocumentsIn(said)).first;
    for (const DocumentRef& mine : it->second) {
      for (const DocumentRef& theirs : group.documents) {
        std::string why;
        if (SameSource(mine, theirs, match, why)) return "source " + id + ": " + why;
      }
    }
  }
  return {};
}

std::string_view HoldoutMatchName(HoldoutMatch m) { return m == HoldoutMatch::kRepository ? "repository" : "document"; }

}  // namespace suanli
