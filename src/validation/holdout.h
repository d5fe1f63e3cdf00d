// Which catalog figures a group of measured cases informed (docs/validation.md,
// "Held out by group"): a figure is informed by a group when one of its
// sources (catalog/sources/ record: title and locator) names the same
// document as a case of the group (its `source:`), when the source names one
// of the group's case ids, or when the figure says `checked_against: [group]`.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "suanli/catalog/catalog.h"
#include "suanli/validation/validate.h"

namespace suanli {

// A publication a text names. `venue` is the repository ("github:owner/repo"),
// the site ("url:host") or the paper ("arxiv:2505.21411");
// `document` the file or page in it ("github:owner/repo/docs/x.md",
// "url:host/path", "arxiv:2505.21411"), or a bare repository path
// ("docs/x.md") when the text names no repository. All lower case.
struct DocumentRef {
  std::string venue;     // empty for a bare path
  std::string document;  // empty when only the venue is named
  std::string text;      // as written, for the audit trail
};

// The first characters of a source text that are read for publications.
inline constexpr std::size_t kMaxSourceText = 2048;

// Every publication `text` names (GitHub URLs and owner/repo:path forms,
// arXiv ids, other URLs, bare repository paths), in order, without duplicates.
std::vector<DocumentRef> DocumentsIn(std::string_view text);

// Whether two references name the same publication under `match`: the same
// document (a bare path matches a document with the same path), or, for
// kRepository, also the same venue. On a match `why` says which.
bool SameSource(const DocumentRef& a, const DocumentRef& b, HoldoutMatch match, std::string& why);

// The documents and case ids of one group of cases.
struct GroupSources {
  std::string group;
  std::vector<std::string> case_ids;
  std::vector<DocumentRef> documents;
};

// The publications each catalog source names, read once.
using SourceDocs = std::map<std::string, std::vector<DocumentRef>, std::less<>>;

// Why `figure` (with its sources in `catalog`) is informed by `group`, or ""
// when it is not. `cache` keeps what each source names.
std::string InformedBy(const Catalog& catalog, const Figure& figure, const GroupSources& group, HoldoutMatch match,
                       SourceDocs& cache);

}  // namespace suanli
