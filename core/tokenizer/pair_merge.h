#pragma once

#include <functional>
#include <string>
#include <vector>

namespace mq {

// What merging two adjacent symbols gives: the merged id (< 0: they do not merge) and its
// priority (higher merges first).
struct PairMerge
{
    int merged = -1;
    double priority = 0;
};

// The BPE loop both llama2.c and Hugging Face byte-level BPE use: merge, again and again, the
// adjacent pair with the highest priority (the leftmost pair among equal priorities) until no
// pair merges. Instead of rescanning after every merge (run.c's O(n²)), a heap over the pairs with
// stale entries skipped picks the same pair at every step in O(n log n): a live pair's left symbol
// keeps its place in the text, so "leftmost" is "smallest original index".
void mergeAdjacentPairs(std::vector<int> &symbols, const std::function<PairMerge(int left, int right)> &mergeOf);

class Tokenizer;
// decode() as the concatenation of decodePiece() over the sequence.
std::string decodeByPieces(const Tokenizer &tokenizer, const std::vector<int> &ids);

} // namespace mq
