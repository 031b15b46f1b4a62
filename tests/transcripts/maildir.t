S: +OK pop3d ready
@login maildir
S: +OK maildrop has 5 messages (141 octets)
C: LIST
S: +OK 5 messages (141 octets)
S: 1 25
S: 2 24
S: 3 30
S: 4 31
S: 5 31
S: .
C: UIDL
S: +OK unique-id listing follows
S: 1 1700000001.M1P1.host
S: 2 1700000002.M2P2.host
S: 3 1700000003.M3P3.host
S: 4 =6534e774644eceb541dd2b753bf94d26
S: 5 1700000005.M5P5.host
S: .
C: UIDL 1
S: +OK 1 1700000001.M1P1.host
C: RETR 1
S: +OK 25 octets
S: Subject: md one
S:
S: seen
S: .
C: RETR 2
S: +OK 24 octets
S: Subject: md two
S:
S: new
S: .
C: RETR 3
S: +OK 30 octets
S: Subject: md three
S:
S: replied
S: .
C: RETR 4
S: +OK 31 octets
S: Subject: md five, in new
S:
S: n
S: .
C: RETR 5
S: +OK 31 octets
S: Subject: md five, in cur
S:
S: c
S: .
C: DELE 2
S: +OK message deleted
C: DELE 3
S: +OK message deleted
C: QUIT
S: +OK bye, 2 messages deleted

after:
    maildir/
    maildir/.pop3d.uidls
    maildir/cur/
    maildir/cur/1700000001.M1P1.host:2,S
    maildir/cur/1700000005.M5P5.host:2,S
    maildir/dovecot-uidlist
    maildir/maildirfolder
    maildir/new/
    maildir/new/1700000005.M5P5.host
    maildir/tmp/
    maildir/tmp/1700000004.M4P4.host
