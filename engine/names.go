package engine

import (
	"errors"
	"math/rand/v2"

	"box/storage"
)

// Docker-style generated names: adjective_surname.
var (
	adjectives = []string{
		"admiring", "agitated", "amazing", "angry", "awesome", "blissful", "bold", "brave",
		"charming", "clever", "cool", "compassionate", "competent", "dazzling", "determined",
		"eager", "ecstatic", "elastic", "elegant", "epic", "festive", "focused", "friendly",
		"gallant", "gifted", "goofy", "gracious", "happy", "hopeful", "hungry", "inspiring",
		"jolly", "keen", "kind", "laughing", "loving", "lucid", "magical", "modest", "nervous",
		"nice", "nifty", "objective", "optimistic", "peaceful", "pensive", "practical",
		"quirky", "quizzical", "relaxed", "reverent", "romantic", "serene", "sharp", "silly",
		"sleepy", "stoic", "sweet", "tender", "trusting", "upbeat", "vibrant", "vigilant",
		"wizardly", "wonderful", "xenodochial", "youthful", "zealous", "zen",
	}
	surnames = []string{
		"albattani", "allen", "archimedes", "babbage", "bardeen", "bartik", "bell", "bohr",
		"booth", "borg", "bose", "brahmagupta", "cannon", "carson", "cerf", "chandrasekhar",
		"curie", "darwin", "dijkstra", "einstein", "euclid", "euler", "faraday", "fermat",
		"fermi", "feynman", "franklin", "galileo", "gauss", "goldberg", "goodall", "hamilton",
		"hawking", "heisenberg", "hopper", "hypatia", "johnson", "kepler", "knuth", "lamarr",
		"leakey", "lovelace", "mayer", "mccarthy", "mclean", "meitner", "mendel", "morse",
		"newton", "nobel", "noether", "pascal", "pasteur", "perlman", "pike", "poincare",
		"ritchie", "rosalind", "shannon", "shockley", "sinoussi", "stonebraker", "swartz",
		"tesla", "thompson", "torvalds", "turing", "volhard", "wescoff", "wiles", "wozniak",
		"wright", "yalow", "yonath",
	}
)

// generateName picks a Docker-style name no container of s has yet.
func generateName(s *storage.Store) string {
	for i := 0; ; i++ {
		n := adjectives[rand.IntN(len(adjectives))] + "_" + surnames[rand.IntN(len(surnames))]
		if i > 10 {
			n += "_" + string(rune('0'+rand.IntN(10)))
		}
		if _, err := s.Container(n); errors.Is(err, storage.ErrContainerUnknown) {
			return n
		}
	}
}
