"""What only a handout says about each lesson: talking points, the figure, a quiz.

The rest of a lesson's sheet (number, name, summary, options, claims) is read from the lesson
itself by ``agents.lessons.handouts``, so it cannot drift; what is here is written to match
the lesson's text and docs/TEACHING.md, and says no number that a seed could change.

Classes:
    Quiz: one quiz question and its answer.
    Handout: the written part of one lesson's sheet.

Attributes:
    HANDOUTS: the written part of every lesson's sheet, by lesson name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Quiz:
    """One quiz question and its answer (a sentence or two)."""

    question: str
    answer: str


@dataclass(frozen=True)
class Handout:
    """The written part of one lesson's sheet.

    Attributes:
        talking_points: what to say, in the order of the lesson (three to five lines).
        figure: what the figure shows, panel by panel (its file name first).
        quiz: three questions, with answers.
        reading: the reading list's keys this lesson builds on (``handouts.READING``).
    """

    talking_points: tuple[str, ...]
    figure: str
    quiz: tuple[Quiz, Quiz, Quiz]
    reading: tuple[str, ...] = ()


HANDOUTS = {
    "preferences": Handout(
        talking_points=(
            "RL needs a number on every step; people can rarely write that number down, but "
            "they can say which of two clips is better.",
            "Each answer is one bit about two clips. Nobody gave a score, yet the answers sit "
            "on the right side of the diagonal of the true returns.",
            "A 'wrong' answer is often a different idea of better (the pole falls late, but "
            "the cart is nearly off the track): ask who answered against the returns, and why.",
            "The swapped repeats measure self-consistency; equal and skip are allowed answers, "
            "and a skip costs time but teaches nothing.",
        ),
        figure=(
            "`preferences.png`: top left, the pair with the largest difference, frame by frame; "
            "right, every answer as a point (left clip's true return across, right clip's up), "
            "its marker the answer given."
        ),
        quiz=(
            Quiz(
                "Why ask people to compare two clips instead of scoring one?",
                "Comparisons are easier and more consistent: a person need not hold a scale in "
                "mind, and two people who disagree on scores often agree on which is better.",
            ),
            Quiz(
                "What does a pair shown twice, swapped, measure?",
                "Self-consistency: whether the same person answers the same question the same "
                "way regardless of which side each clip is on.",
            ),
            Quiz(
                "Does a skipped pair help the reward model?",
                "No: a skip is not a target. It costs the person's time; an 'equal' answer, by "
                "contrast, does teach (the two returns should be close).",
            ),
        ),
        reading=("christiano2017", "bpref2021"),
    ),
    "reward-model": Handout(
        talking_points=(
            "The reward model turns comparisons into a number per step: a small network r(s, a, "
            "s'); a clip's return is the sum of r, and P(left better) = sigmoid(R_left - "
            "R_right) (Bradley-Terry, as in chess ratings).",
            "Check it on clips it never saw: accuracy on held-out pairs grows with the labels.",
            "Its return ranks clips like the true return but has no scale of its own: "
            "preferences say nothing about scale, so the reward is known up to a constant and "
            "a factor.",
            "Nobody told it about the 12 degrees; it found the band from the answers alone. The "
            "points it gets wrong are where PPO could exploit it (lesson 6).",
        ),
        figure=(
            "`reward_model.png`: left, accuracy on held-out pairs against the number of labels "
            "(guessing is 0.5); middle, learned against true return of held-out clips, with "
            "their Spearman correlation; right, the learned reward of every step against the "
            "pole's angle, green where the true reward was 1, dotted lines at +-12 degrees."
        ),
        quiz=(
            Quiz(
                "Why can the learned return not match the true return's scale?",
                "Bradley-Terry depends only on differences of returns, and answers only on their "
                "order: adding a constant or stretching the reward explains the answers as well.",
            ),
            Quiz(
                "Why measure accuracy on held-out pairs rather than on the labels fit on?",
                "A model can memorise its labels; only new clips show whether it learned what "
                "the person wants.",
            ),
            Quiz(
                "Where is a reward model most likely to be wrong, and why does it matter?",
                "In states its clips rarely showed. PPO seeks high reward wherever it is, so it "
                "will find those states if the model happens to overrate them.",
            ),
        ),
        reading=("christiano2017", "stiennon2020"),
    ),
    "learned-reward": Handout(
        talking_points=(
            "Now PPO learns from the reward model, not from the env. Acrobot's true reward is "
            "sparse: -1 on every step until the tip crosses the line.",
            "People grade near-misses: a clip that swings higher is better. So the learned "
            "reward is dense, and within a small budget it can teach more than the true one.",
            "Every RLHF claim needs a control: PPO on a constant reward (and on an untrained "
            "reward network) trains the same way with no information. Whatever they learn is "
            "not learning from feedback.",
        ),
        figure=(
            "`learned_reward.png`: left, steps with the tip above the line (the true task) as "
            "PPO trains, for the learned reward, the true reward and the controls; right, the "
            "mean tip height, what the teacher judged, with the line dashed."
        ),
        quiz=(
            Quiz(
                "Why can a reward learned from people beat the env's own reward here?",
                "The true reward is sparse (nothing until the tip crosses the line); the "
                "teacher's answers grade how close a clip came, a dense signal PPO can climb.",
            ),
            Quiz(
                "What does the constant-reward control rule out?",
                "That the agent improved for reasons other than the feedback: the training set-"
                "up, the env's dynamics or chance.",
            ),
            Quiz(
                "What would happen if the teacher graded the wrong thing?",
                "The agent would learn the wrong thing just as well: the reward model learns "
                "what was asked, not what was meant (lesson 6).",
            ),
        ),
        reading=("christiano2017",),
    ),
    "termination-leak": Handout(
        talking_points=(
            "A constant +1 on every step carries no information about what is good, yet on "
            "Gymnasium's CartPole-v1 it teaches PPO to balance.",
            "What teaches is the episode's end: the episode stops when the pole falls, so "
            "balancing means more +1s.",
            "A learned reward that happens to be positive gets the same free ride, and we "
            "would credit the labels. Every suite env has a fixed horizon for this reason.",
        ),
        figure=(
            "`termination_leak.png`: the true return of PPO trained on +1 per step, on "
            "CartPole-v1 (episodes end when the pole falls) and on the fixed-horizon suite env."
        ),
        quiz=(
            Quiz(
                "A constant reward carries no information. How can it teach balancing?",
                "Through termination: when falling ends the episode, a policy that keeps the "
                "pole up collects more rewards, so the episode's length is the real signal.",
            ),
            Quiz(
                "Why does the suite's CartPole have a fixed horizon?",
                "So that no reward can profit from when an episode ends: only what the reward "
                "says about each step can teach.",
            ),
            Quiz(
                "How would this leak fool an RLHF experiment?",
                "A learned reward that is mostly positive would teach balancing on CartPole-v1 "
                "even if it had learned nothing from the labels; the control would reveal it.",
            ),
        ),
        reading=("bpref2021",),
    ),
    "noisy-people": Handout(
        talking_points=(
            "Real people are not oracles: they tire, slip, skip what is hard, say 'equal' when "
            "unsure, and remember the end of a clip better than its start.",
            "B-Pref turned these habits into six scripted teachers; a seventh, careless, flips "
            "30% of its answers. They all answer the same questions here, so their labels and "
            "reward models can be compared, and the agents of the oracle, mistake and careless "
            "teachers beside a constant-reward control.",
            "Label quality is measurable: agreement with the others, self-consistency on the "
            "repeats, left/right bias and beta, the noise of the Boltzmann model.",
            "A reward model averages much of the noise out; flipped answers and systematic "
            "errors (myopia) cost the most. The same figures work for a class's own labels.",
        ),
        figure=(
            "`label_quality/label_quality.png`: agreement, self-consistency on the swapped "
            "repeats, left/right bias and each teacher's fitted Boltzmann curve. "
            "`noisy_people.png`: each teacher's label accuracy (answers that agree with the "
            "truth) and reward-model accuracy on held-out pairs, and the spin of the agents of "
            "the oracle, mistake and careless teachers beside the constant-reward control."
        ),
        quiz=(
            Quiz(
                "What is beta in P(left) = sigmoid(beta * (R_left - R_right))?",
                "How sharply a person's answers follow the return difference: infinite for an "
                "oracle (a step), small for a noisy person (a gentle slope).",
            ),
            Quiz(
                "Which is worse for a reward model: random noise or a systematic error?",
                "A systematic error (myopia, a bias): random noise averages out over many "
                "labels, a systematic error teaches the same wrong thing every time.",
            ),
            Quiz(
                "How would you check a class's labels before training on them?",
                "Repeat some pairs swapped (self-consistency), compare each person with the "
                "majority (agreement) and look for a left/right bias.",
            ),
        ),
        reading=("bpref2021",),
    ),
    "reward-hacking": Handout(
        talking_points=(
            "The reward model is only a model of what people want; PPO is an optimiser and "
            "finds whatever the model rewards, mistakes included.",
            "Fit on few labels and optimised for long, the learned return keeps rising while "
            "the true return falls: reward hacking, or overoptimisation.",
            "The model was right about the clips it saw; the agent went where it saw none.",
            "The cures: more and more varied labels, labels of the agent's newest behaviour in "
            "every round, and a KL penalty to a trusted policy (lesson 8).",
        ),
        figure=(
            "`reward_hacking.png`: left, the learned return (what PPO optimises) as a change "
            "since the start; right, the true return (what was wanted), with where the agent "
            "ended up in the corner."
        ),
        quiz=(
            Quiz(
                "Why does the true return fall while the learned return rises?",
                "PPO moves to states the labelled clips never showed, where the reward model's "
                "guess is wrong in its favour.",
            ),
            Quiz(
                "Why does the loop of `hfrl train` ask about the agent's newest clips?",
                "So that wherever the agent goes, people see it and the model is corrected "
                "there before PPO can exploit it for long.",
            ),
            Quiz(
                "Name two other defences against overoptimisation.",
                "A KL penalty that keeps the policy near a trusted one, and stopping early "
                "(or more labels, so that the model is right in more places).",
            ),
        ),
        reading=("gao2022", "stiennon2020"),
    ),
    "new-behaviour": Handout(
        talking_points=(
            "Preferences can teach what no reward function of the env describes: here, make "
            "the pendulum spin, where its own task is to stand upright.",
            "The teacher never writes a formula; it only says which clip spins more.",
            "Measure the agent by the teacher's goal, beside a constant-reward control; the "
            "env's own task is ignored, as it should be.",
            "Christiano et al. (2017) taught a simulated robot a backflip this way.",
        ),
        figure=(
            "`new_behaviour.png`: left, the spin return (of at most 200) as PPO trains, for the "
            "learned reward and the control; middle, the env's own task return; right, a "
            "histogram of the angular speed in the last evaluation."
        ),
        quiz=(
            Quiz(
                "Where in the code is spinning described to the agent?",
                "Nowhere: only the scripted teacher knows its goal; the agent learns it from "
                "which clips the teacher preferred.",
            ),
            Quiz(
                "Why is the agent scored by its most likely actions here?",
                "Pendulum's exploration noise alone makes it spin now and then; the most "
                "likely actions show what the policy has learned.",
            ),
            Quiz(
                "Why does the env's own task return not improve?",
                "Nobody asked for it: the reward model rewards spinning, and standing upright "
                "is the opposite of spinning.",
            ),
        ),
        reading=("christiano2017",),
    ),
    "full-pipeline": Handout(
        talking_points=(
            "How chat assistants are trained, in miniature: pretrain by imitation (behaviour "
            "cloning, like supervised fine-tuning), learn a reward from preferences, improve "
            "the policy with PPO.",
            "The clone copies its demonstrator's habits, good and bad.",
            "PPO pays beta times the KL divergence from the cloned policy: a leash. With beta = "
            "0 it goes wherever the reward model leads, mistakes included; with a large beta "
            "it hardly moves; between them is the trade-off.",
            "In language models the KL keeps answers fluent while the reward model shapes them.",
        ),
        figure=(
            "`pipeline.png`: the learned return gained and the true return during fine-tuning, "
            "one line per beta, both from one evaluation of the clone; the KL divergence from "
            "the clone as it grows; and the trade-off: learned return gained at the end against "
            "the final KL, each point labelled with its true return."
        ),
        quiz=(
            Quiz(
                "What plays the role of supervised fine-tuning here?",
                "Behaviour cloning of the demonstrations: the policy learns to copy the "
                "demonstrator's actions before any reward.",
            ),
            Quiz(
                "What does beta trade off?",
                "Reward gained against distance from the reference policy: beta is the price, "
                "in reward, of one nat of change.",
            ),
            Quiz(
                "Why not set beta very large to be safe?",
                "Then the policy stays the clone, its bad habits included: the feedback can no "
                "longer improve it.",
            ),
        ),
        reading=("ouyang2022", "stiennon2020"),
    ),
    "feedback-kinds": Handout(
        talking_points=(
            "People can compare two clips, rate one on a scale, or show what they want by "
            "doing it. Compare them on one budget: the same number of clips watched or played.",
            "A rating needs a scale fixed in advance; a comparison needs none. Here every rating "
            "is turned into what it says about two clips (higher is better, equal is a tie), "
            "and the same reward model is fit on that.",
            "A demonstration needs someone who can do the task. Behaviour cloning copies the "
            "demonstrator, habits and limits included; a reward learned from judgements lets "
            "PPO go beyond what the judge could play: judging is easier than doing.",
            "Mode collapse: the goal rewards spinning either way and the teacher's favourite "
            "clips turn both ways, but the agent trained on preferences usually settles on one "
            "direction (not always: see the claims table). RLHF-tuned language models likewise "
            "answer less variedly than people.",
        ),
        figure=(
            "`feedback_kinds.png`: left, the spin return (of at most 200) of each agent on the "
            "same effort, beside the demonstrator and the constant-reward control; middle, the "
            "PPO agents as they learn, the clone and the demonstrator as lines; right, which way "
            "they turn: the angular velocity of the teacher's preferred clips, the "
            "demonstrator and the preference agent, each with its share of the less common "
            "direction."
        ),
        quiz=(
            Quiz(
                "Why can the agent trained from preferences spin faster than the demonstrator, "
                "but the clone cannot?",
                "Cloning copies the demonstrated actions, so it inherits the demonstrator's "
                "limits; preferences only need the teacher to recognise faster spinning, and "
                "PPO searches for it.",
            ),
            Quiz(
                "What does a 1-5 rating lose that a comparison keeps, and what does it add?",
                "Clips that fall in the same bin become ties, and the scale must be fixed in "
                "advance (here most random clips get a 1, 2 or 3); but one rated clip can be "
                "set against every other rated clip.",
            ),
            Quiz(
                "What is mode collapse, and how does this lesson measure it?",
                "The trained policy keeps one of several equally good behaviours; here, the "
                "share of its turning steps in the less common direction, against the same "
                "share for the clips the teacher preferred.",
            ),
        ),
        reading=("christiano2017", "ouyang2022"),
    ),
    "active-queries": Handout(
        talking_points=(
            "Every answer costs a person's time, so which pairs to ask matters as much as how "
            "many.",
            "The reward model is an ensemble: where its members disagree, the model is unsure, "
            "and an answer there should teach the most (Christiano et al. 2017).",
            "The first round is random for both methods: without a model there is no "
            "disagreement to measure.",
            "One run can mislead: each method runs several times, and the figure shows the "
            "band. Ask whether the difference is larger than the band.",
        ),
        figure=(
            "`active_queries.png`: left, accuracy on held-out pairs against the number of "
            "labels, for uniform and disagreement pairs (line: mean of the draws; band: lowest "
            "to highest); right, how far apart in true spin the two clips of each chosen pair "
            "were (dashed: the median)."
        ),
        quiz=(
            Quiz(
                "How does ensemble disagreement choose a pair?",
                "Of many random candidate pairs, it keeps those on which the members' "
                "predicted P(left better) varies most.",
            ),
            Quiz(
                "Why must the first round be random?",
                "Disagreement needs a fitted model; before any answer there is none, so the "
                "first pairs cannot be chosen by it.",
            ),
            Quiz(
                "Why run each method several times before comparing them?",
                "One draw of pairs and initial weights can be lucky or unlucky; only a "
                "difference larger than the spread between draws says something about the "
                "method.",
            ),
        ),
        reading=("christiano2017", "pebble2021", "bpref2021"),
    ),
}
