package evidence

import "strings"

// readme is README.txt: fixed text but for the contract ID, so Verify can
// check it byte for byte like every other file. The text is part of format
// signet-evidence-v1: changing it needs a new format version, with this
// text kept for the bundles already issued.
func readme(contractID string) []byte {
	return []byte(strings.ReplaceAll(readmeText, "{{contract}}", contractID))
}

const readmeText = `signet 合同证据包 / signet contract evidence bundle
合同 ID / Contract ID: {{contract}}
格式 / Format: signet-evidence-v1

一键核验 / Check everything at once (offline):

    signet evidence verify <this-file>.zip
    signet evidence verify --ca <published ca.pem> --log-key <published log-key.pem> <this-file>.zip

报告逐项说明哪些成立、哪些不成立以及出在哪个文件。
The report says, line by line, what holds, what does not, and in which file.

==== 文件 / Files ====

manifest.json
    各文件的大小和 SHA-256。清单本身可被改写，真正的保证来自下面的哈希链、Merkle 证明和签名。
    Size and SHA-256 of every other file. Anyone can rewrite it; the guarantees
    come from the hash chain, the Merkle proofs and the signatures below.
README.txt
    本说明。 This text.
events.json
    合同事件流的全部事件（按版本顺序），含元数据、prev_hash、hash 和全局位置；每个事件的
    "data" 与存储时逐字节相同。
    Every event of the contract's stream, in version order, with its metadata,
    prev_hash, hash and global position; each event's "data" is byte for byte
    as stored.
proofs.json
    每个事件一条 RFC 6962 包含证明：叶子序号、叶子哈希、审计路径。
    One RFC 6962 inclusion proof per event: leaf index, leaf hash, audit path.
tree-head.json
    平台签名的树头：大小、根哈希、签名时间、密钥 ID、Ed25519 签名。
    The signed tree head: size, root hash, time, key ID, Ed25519 signature.
log-key.pem
    签名树头的 Ed25519 公钥。请与平台公布的公钥比对。
    The Ed25519 public key that signed the tree head. Compare it with the key
    the platform publishes.
ca.pem
    平台根 CA 证书；文件签名和时间戳证书都链到它。请与平台公布的证书比对。
    The platform's root CA certificate; every signing and timestamp certificate
    chains to it. Compare it with the certificate the platform publishes.
documents/<文件 ID document ID>.pdf
    最终签署的合同文件，每个签约方一个数字签名，每个签名带 RFC 3161 时间戳。
    The final signed documents: one digital signature per party, each with an
    RFC 3161 timestamp.
certificate-of-completion.pdf
    合同签署完成证明（中英文）。 The certificate of completion (Chinese and English).
timestamps/<n>.tsr
    每个签名的 RFC 3161 时间戳（DER），按文件、按签约方排列。
    The RFC 3161 timestamp token (DER) of each signature, document by
    document, party by party.

==== 手工核验 / Checking by hand ====

1. 文件完整 / Files
       sha256sum <file>
   应与 manifest.json 中该文件的 sha256 相同。
   Must equal the file's sha256 in manifest.json.

2. 签署文件与证明 / Documents and certificate
   events.json 中类型为 ContractSealed 的事件在 "data" 里记录了每个最终文件
   (documents[].document_id, sha256)、完成证明 (certificate_sha256) 和时间戳
   (timestamps[]) 的 SHA-256；它们应与文件的 SHA-256 相同。
   The ContractSealed event in events.json records, in its "data", the SHA-256
   of each final document (documents[].document_id, sha256), of the
   certificate (certificate_sha256) and of each token (timestamps[]); they
   must equal the files' SHA-256.

3. 数字签名 / Signatures
       pdfsig documents/<id>.pdf
   每个签名都应为 "Signature is Valid"；若未把 ca.pem 导入 NSS 数据库，
   会显示证书颁发者不受信任。
   Every signature must read "Signature is Valid"; the issuer shows as not
   trusted unless ca.pem is imported into pdfsig's NSS database.
   时间戳 / Timestamps:
       openssl ts -reply -token_in -in timestamps/1.tsr -text
       openssl ts -verify -token_in -in timestamps/1.tsr -digest <hex> -CAfile ca.pem -untrusted ca.pem
   <hex> 是时间戳所覆盖的 SHA-256：签名的时间戳覆盖该签名的签名值。
   <hex> is the SHA-256 the token covers: a signature's token covers that
   signature's value.

4. 哈希链 / Hash chain
   hash = SHA-256 over these fields in order, each written as its length
   (8 bytes, big-endian) followed by its bytes: "signet-event-v1", prev_hash,
   id, stream, version, type, schema, data (the exact bytes in events.json),
   then metadata actor, enterprise, correlation_id, causation_id, client_ip,
   occurred_at (RFC 3339 with nanoseconds, UTC). version and schema are
   8-byte big-endian numbers, so their fields are 8 + 8 bytes. 第一个事件的 prev_hash 为空；之后每个事件的 prev_hash
   等于前一事件的 hash。 The first event's prev_hash is empty; each later one
   equals the hash of the event before it.

5. Merkle 证明 / Merkle proofs (RFC 6962)
   leaf_data = field("signet-leaf-v1") || field(stream) || version (8-byte
   big-endian) || field(id) || field(hash as 64 hex characters), where
   field(b) = length of b (8 bytes, big-endian) || b.
   leaf_hash = SHA-256(0x00 || leaf_data); node = SHA-256(0x01 || left || right).
   Folding the audit path from leaf_index in a tree of tree-head.json's size
   must give its root_hash. "position" in events.json locates the event in the
   global log; it is not covered by the hashes (the leaf index is).

6. 树头签名 / Tree head signature
   The signed message is, with no final newline:
       signet-tree-head-v1
       <size>
       <root_hash>
       <signed_at, RFC 3339 with nanoseconds, UTC>
   Verify with log-key.pem, e.g.:
       printf 'signet-tree-head-v1\n%s\n%s\n%s' <size> <root_hash> <signed_at> > message.txt
       base64 -d <<< "<signature>" > sig.bin
       openssl pkeyutl -verify -pubin -inkey log-key.pem -rawin -in message.txt -sigfile sig.bin
`
