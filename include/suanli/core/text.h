// Names people type: case-insensitive matches and "did you mean" suggestions; comma lists.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace suanli {

// Closest strings to `word` among `candidates` (edit distance, or containing
// the word), best first.
std::vector<std::string> ClosestMatches(std::string_view word, const std::vector<std::string>& candidates,
                                        std::size_t max_results = 3);

// " (did you mean 'a', 'b'?)" with up to `max_results` suggestions, or "" when none is close.
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates, std::size_t max_results = 1);

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// `s` without leading and trailing spaces and tabs.
std::string_view TrimBlanks(std::string_view s);

// The items of a comma-separated list with all white space removed; empty items are skipped
// ("8=153/158, 16 = 43," gives "8=153/158" and "16=43").
std::vector<std::string> SplitCommaList(std::string_view text);

// The items of a comma-separated list, each without leading and trailing
// spaces and tabs, empty items kept so that a parser can refuse them
// ("0.9, ,0.7" gives "0.9", "" and "0.7"; "" gives one empty item).
std::vector<std::string> SplitCommaItems(std::string_view text);

}  // namespace suanli
