#include "core/tokenizer/pair_merge.h"

#include "core/tokenizer/tokenizer.h"

#include <queue>

namespace mq {

void mergeAdjacentPairs(std::vector<int> &symbols, const std::function<PairMerge(int, int)> &mergeOf)
{
    const int n = static_cast<int>(symbols.size());
    if (n < 2)
        return;
    struct Candidate
    {
        double priority;
        int left;
        int right;
        int leftId;
        int rightId;
        int merged;
    };
    auto worse = [](const Candidate &a, const Candidate &b) {
        if (a.priority != b.priority)
            return a.priority < b.priority;
        return a.left > b.left;
    };
    std::priority_queue<Candidate, std::vector<Candidate>, decltype(worse)> heap(worse);
    std::vector<int> next(n);
    std::vector<int> prev(n);
    std::vector<char> alive(n, 1);
    for (int i = 0; i < n; ++i) {
        next[i] = i + 1 < n ? i + 1 : -1;
        prev[i] = i - 1;
    }
    auto consider = [&](int left, int right) {
        if (left < 0 || right < 0)
            return;
        const PairMerge m = mergeOf(symbols[left], symbols[right]);
        if (m.merged >= 0)
            heap.push({m.priority, left, right, symbols[left], symbols[right], m.merged});
    };
    for (int i = 0; i + 1 < n; ++i)
        consider(i, i + 1);

    while (!heap.empty()) {
        const Candidate top = heap.top();
        heap.pop();
        if (!alive[top.left] || !alive[top.right] || next[top.left] != top.right ||
            symbols[top.left] != top.leftId || symbols[top.right] != top.rightId)
            continue;
        symbols[top.left] = top.merged;
        alive[top.right] = 0;
        next[top.left] = next[top.right];
        if (next[top.right] >= 0)
            prev[next[top.right]] = top.left;
        consider(prev[top.left], top.left);
        consider(top.left, next[top.left]);
    }
    int out = 0;
    for (int i = 0; i >= 0; i = next[i])
        symbols[out++] = symbols[i];
    symbols.resize(out);
}

std::string decodeByPieces(const Tokenizer &tokenizer, const std::vector<int> &ids)
{
    std::string text;
    int previous = -1;
    for (const int id : ids) {
        text += tokenizer.decodePiece(previous, id);
        previous = id;
    }
    return text;
}

} // namespace mq
