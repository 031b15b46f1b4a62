S: +OK pop3d ready
C: user me
S: +OK send PASS
C: PaSs passw0rd
S: +OK maildrop has 3 messages (454 octets)
C: stat
S: +OK 3 454
C: StAt
S: +OK 3 454
C: list 2
S: +OK 2 215
C: Uidl 2
S: +OK 2 2.eml
C: top 3 0
S: +OK top of message follows
S: From: carol@example.org
S: To: me@example.org
S: Subject: three
S:
S: .
C: retr 3
S: +OK 71 octets
S: From: carol@example.org
S: To: me@example.org
S: Subject: three
S:
S: Short.
S: .
C: dele 3
S: +OK message deleted
C: rset
S: +OK maildrop has 3 messages (454 octets)
C: noop
S: +OK
C: quit
S: +OK bye, 0 messages deleted

after:
    me/
    me/1.eml
    me/2.eml
    me/3.eml
