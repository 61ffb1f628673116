/*
 * vecleak: a C++ program whose leak goes through operator new inside
 * std::vector, for the culprit tests (tests/t3030-report-culprit.sh): every
 * 4 ms cache_record() builds a 4 KiB std::vector<char> and keeps it in a
 * growing std::vector, so the bytes are allocated by the standard library's
 * templates on behalf of cache_record. Exits 0 after ROUNDS records.
 *
 * Usage: vecleak ROUNDS
 */
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

static std::vector<std::vector<char>> cache;

__attribute__((noinline)) static void cache_record(std::size_t n)
{
	std::vector<char> v(n, 'r');

	cache.push_back(std::move(v));
}

int main(int argc, char **argv)
{
	long rounds = std::atol(argc > 1 ? argv[1] : "600");

	for (long i = 0; i < rounds; i++) {
		cache_record(4096);
		std::this_thread::sleep_for(std::chrono::milliseconds(4));
	}
	std::printf("kept %zu records\n", cache.size());
	return 0;
}
