#include "widget_test_util.h"

#include "widgets/run_list_model.h"

#include <QAbstractItemModelTester>
#include <QFileInfo>
#include <QSignalSpy>
#include <QSortFilterProxyModel>

#include <gtest/gtest.h>

#include <fstream>

namespace mq {
namespace {

using test::TempDir;

constexpr auto kFatal = QAbstractItemModelTester::FailureReportingMode::Fatal;

struct RunContent
{
    std::string config;
    std::vector<double> losses;
    double fpPpl, quantPpl;
};

void writeRun(const std::string &path, const RunContent &c)
{
    auto writer = RunWriter::create(path, test::twoLayerHeader(c.config));
    for (std::size_t s = 0; s < c.losses.size(); ++s) {
        writer.appendStep(std::int64_t(s), c.losses[s], 0.5 * double(s + 1), { { "let", 1e-3 }, { "lwc", 5e-3 } });
        if (s % 2 == 0)
            test::appendSnapshot(writer, int(s / 2));
    }
    writer.writeEval("perplexity",
        R"({"fp_perplexity":)" + std::to_string(c.fpPpl) + R"(,"quant_perplexity":)" + std::to_string(c.quantPpl) + "}");
    writer.close();
}

QVariant value(const RunListModel &m, int row, int column) { return m.index(row, column).data(RunListModel::SortRole); }

class RunListModelTest : public ::testing::Test
{
protected:
    void SetUp() override
    {
        writeRun(omniquant, { R"({"method":"omniquant","bits":"W8A8","samples":64,"epochs":1,"seqlen":128})",
                                { 0.9, 0.5, 0.25 }, 11.25, 12.5 });
        writeRun(mobilequant, { R"({"method":"mobilequant","bits":4,"samples":128,"epochs":2,"seqlen":256})",
                                  { 1.5, 0.75, 0.375, 0.1875, 0.09375 }, 11.25, 13.75 });
    }

    TempDir dir;
    std::string omniquant = dir.file("omni, w8.h5"); // a comma, to exercise CSV quoting
    std::string mobilequant = dir.file("mobile.h5");
    RunListModel model;
    QAbstractItemModelTester tester { &model, kFatal };
};

TEST_F(RunListModelTest, ShowsTheRunFilesNumbers)
{
    QSortFilterProxyModel proxy;
    proxy.setSortRole(RunListModel::SortRole);
    proxy.setSourceModel(&model);
    QAbstractItemModelTester proxyTester(&proxy, kFatal);

    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    EXPECT_EQ(model.addRun(QString::fromStdString(omniquant)), QString());
    EXPECT_EQ(model.addRun(QString::fromStdString(mobilequant)), QString());
    EXPECT_EQ(inserted.count(), 2);
    ASSERT_EQ(model.rowCount(), 2);
    EXPECT_EQ(model.columnCount(), RunListModel::ColumnCount);

    EXPECT_EQ(value(model, 0, RunListModel::MethodColumn).toString(), QStringLiteral("omniquant"));
    EXPECT_EQ(value(model, 0, RunListModel::BitsColumn).toString(), QStringLiteral("W8A8"));
    EXPECT_EQ(value(model, 0, RunListModel::SamplesColumn).toDouble(), 64.0);
    EXPECT_EQ(value(model, 0, RunListModel::EpochsColumn).toDouble(), 1.0);
    EXPECT_EQ(value(model, 0, RunListModel::StepsColumn).toDouble(), 3.0);
    EXPECT_EQ(value(model, 0, RunListModel::FinalLossColumn).toDouble(), 0.25);
    EXPECT_EQ(value(model, 0, RunListModel::FloatPplColumn).toDouble(), 11.25);
    EXPECT_EQ(value(model, 0, RunListModel::QuantPplColumn).toDouble(), 12.5);
    EXPECT_EQ(model.index(0, RunListModel::FileColumn).data().toString(), QStringLiteral("omni, w8.h5"));
    EXPECT_EQ(model.index(0, 0).data(RunListModel::PathRole).toString(),
        QFileInfo(QString::fromStdString(omniquant)).absoluteFilePath());

    EXPECT_EQ(value(model, 1, RunListModel::MethodColumn).toString(), QStringLiteral("mobilequant"));
    EXPECT_EQ(model.index(1, RunListModel::BitsColumn).data().toString(), QStringLiteral("4"));
    EXPECT_EQ(value(model, 1, RunListModel::SamplesColumn).toDouble(), 128.0);
    EXPECT_EQ(value(model, 1, RunListModel::EpochsColumn).toDouble(), 2.0);
    EXPECT_EQ(value(model, 1, RunListModel::StepsColumn).toDouble(), 5.0);
    EXPECT_EQ(value(model, 1, RunListModel::FinalLossColumn).toDouble(), 0.09375);
    EXPECT_EQ(model.index(1, RunListModel::QuantPplColumn).data().toString(), QStringLiteral("13.75"));
    EXPECT_EQ(model.run(1).seqlen, 256.0);

    // Compare runs: best quantized perplexity first.
    proxy.sort(RunListModel::QuantPplColumn, Qt::AscendingOrder);
    EXPECT_EQ(proxy.index(0, RunListModel::MethodColumn).data().toString(), QStringLiteral("omniquant"));
    proxy.sort(RunListModel::QuantPplColumn, Qt::DescendingOrder);
    EXPECT_EQ(proxy.index(0, RunListModel::MethodColumn).data().toString(), QStringLiteral("mobilequant"));

    EXPECT_TRUE(model.removeRun(0));
    ASSERT_EQ(model.rowCount(), 1);
    EXPECT_EQ(value(model, 0, RunListModel::MethodColumn).toString(), QStringLiteral("mobilequant"));
    EXPECT_FALSE(model.removeRun(1));
    EXPECT_FALSE(model.removeRun(-1));
    EXPECT_TRUE(model.removeRun(0));
    EXPECT_EQ(model.rowCount(), 0);
}

TEST_F(RunListModelTest, AddingAListedRunAgainUpdatesItsRow)
{
    ASSERT_EQ(model.addRun(QString::fromStdString(mobilequant)), QString());
    writeRun(mobilequant + ".tmp", { R"({"method":"mobilequant","bits":4,"samples":256,"epochs":3,"seqlen":256})",
                                       { 1.0, 0.5 }, 11.25, 12.0 });
    std::filesystem::rename(mobilequant + ".tmp", mobilequant);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    EXPECT_EQ(model.addRun(QString::fromStdString(mobilequant)), QString());
    EXPECT_EQ(inserted.count(), 0);
    EXPECT_EQ(changed.count(), 1);
    ASSERT_EQ(model.rowCount(), 1);
    EXPECT_EQ(value(model, 0, RunListModel::SamplesColumn).toDouble(), 256.0);
    EXPECT_EQ(value(model, 0, RunListModel::StepsColumn).toDouble(), 2.0);
}

TEST_F(RunListModelTest, CsvHasAHeaderAndOneLinePerRun)
{
    ASSERT_EQ(model.addRun(QString::fromStdString(omniquant)), QString());
    ASSERT_EQ(model.addRun(QString::fromStdString(mobilequant)), QString());
    const QStringList lines = model.toCsv().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    ASSERT_EQ(lines.size(), 3);
    EXPECT_EQ(lines[0], QStringLiteral("method,bits,samples,epochs,steps,final_loss,float_ppl,quant_ppl,file"));
    const QString omniPath = QFileInfo(QString::fromStdString(omniquant)).absoluteFilePath();
    EXPECT_EQ(lines[1], QStringLiteral("omniquant,W8A8,64,1,3,0.25,11.25,12.5,\"%1\"").arg(omniPath));
    const QString mobilePath = QFileInfo(QString::fromStdString(mobilequant)).absoluteFilePath();
    EXPECT_EQ(lines[2], QStringLiteral("mobilequant,4,128,2,5,0.09375,11.25,13.75,%1").arg(mobilePath));
}

TEST_F(RunListModelTest, ABadFileGivesAReadableErrorAndLeavesTheModelUnchanged)
{
    ASSERT_EQ(model.addRun(QString::fromStdString(mobilequant)), QString());
    const QString before = model.toCsv();
    QSignalSpy failed(&model, &RunListModel::runLoadFailed);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);

    const std::string text = dir.file("notes.txt");
    std::ofstream(text) << "method: mobilequant\nthis is not an HDF5 run file\n";
    const std::string missing = dir.file("missing.h5");
    for (const auto &bad : { text, missing }) {
        SCOPED_TRACE(bad);
        const QString path = QString::fromStdString(bad);
        const QString message = model.addRun(path);
        EXPECT_FALSE(message.isEmpty());
        EXPECT_TRUE(message.contains(path)) << message.toStdString();
        EXPECT_GT(message.size(), path.size() + 5) << message.toStdString();
        ASSERT_FALSE(failed.isEmpty());
        EXPECT_EQ(failed.last().at(0).toString(), path);
        EXPECT_EQ(failed.last().at(1).toString(), message);
    }
    EXPECT_EQ(failed.count(), 2);
    EXPECT_EQ(inserted.count(), 0);
    EXPECT_EQ(model.rowCount(), 1);
    EXPECT_EQ(model.toCsv(), before);
}

} // namespace
} // namespace mq
