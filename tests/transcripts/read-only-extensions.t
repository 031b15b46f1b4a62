args: --users users-ro
setup:
    # me, served read-only (the users file's ro flag).
    printf '%s\n' 'me:$argon2id$v=19$m=8,t=1,p=1$FpU6yRwojN+hpJ6Reac/aA$pGd8JmrKnKxc1EFTuhtdyXPRRoAPpjoRB08/ffBtajc::ro' > ../users-ro

S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: DELI 1
S: -ERR [READ-ONLY] this mailbox is read-only
C: DELI UID:2.eml
S: -ERR [READ-ONLY] this mailbox is read-only
C: DELE 3
S: -ERR [READ-ONLY] this mailbox is read-only
C: SLEE
S: +OK sleeping, 0 messages deleted
C: WAKE
S: +OK [ACTIVITY/NONE] maildrop has 3 messages (454 octets)
C: STAT
S: +OK 3 454
C: QUIT
S: +OK bye, 0 messages deleted

after:
    me/
    me/1.eml
    me/2.eml
    me/3.eml
