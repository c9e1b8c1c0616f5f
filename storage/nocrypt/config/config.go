// Package config declares the encryption and decryption settings that
// go.podman.io/image/v5/copy.Options carries; box leaves both nil.
package config

// EncryptConfig would say how to encrypt layers.
type EncryptConfig struct{}

// DecryptConfig would say how to decrypt layers.
type DecryptConfig struct{}
