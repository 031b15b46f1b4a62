S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: RETR 1
S: +OK 168 octets
S: From: alice@example.org
S: To: me@example.org
S: Subject: one
S: Date: Mon, 01 Jan 2024 10:00:00 +0000
S:
S: Hello me,
S: this is message one, stored with LF line endings.
S: Bye.
S: .
C: RETR 2
S: +OK 215 octets
S: From: bob@example.org
S: To: me@example.org
S: Subject: two
S: Date: Tue, 02 Jan 2024 10:00:00 +0000
S:
S: Message two is stored with CRLF line endings.
S: Its size on disk is its size on the wire.
S: Third line.
S: Fourth line.
S: .
C: RETR 3
S: +OK 71 octets
S: From: carol@example.org
S: To: me@example.org
S: Subject: three
S:
S: Short.
S: .
C: QUIT
S: +OK bye, 0 messages deleted

after:
    me/
    me/1.eml
    me/2.eml
    me/3.eml
